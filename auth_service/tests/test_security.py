import time

import anyio
import pytest

from auth_service.security import HasherBusy, PasswordHasher

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def hasher() -> PasswordHasher:
    # Built inside the event loop, as the service's lifespan does (its limiter belongs to the loop).
    return PasswordHasher(rounds=4, concurrency=1, queue_limit=10)


async def test_hash_verifies_only_the_same_password(hasher):
    hashed = await hasher.hash("securepassword123")

    assert hashed.startswith("$2b$04$")
    assert await hasher.verify("securepassword123", hashed)
    assert not await hasher.verify("securepassword124", hashed)


async def test_verify_refuses_rather_than_raises_on_passwords_bcrypt_cannot_take(hasher):
    hashed = await hasher.hash("x" * 72)

    assert not await hasher.verify("x" * 73, hashed)


async def test_verify_without_a_stored_hash_is_false(hasher):
    assert not await hasher.verify("decoy-password", None)


def slowed(hasher: PasswordHasher) -> dict[str, int]:
    """Make each hash take 50 ms and count how many run at once."""
    counts = {"running": 0, "peak": 0}
    original_hash = hasher._context.hash

    def counting_hash(password: str) -> str:
        counts["running"] += 1
        counts["peak"] = max(counts["peak"], counts["running"])
        try:
            time.sleep(0.05)
            return original_hash(password)
        finally:
            counts["running"] -= 1

    hasher._context.hash = counting_hash
    return counts


async def test_no_more_hashes_run_at_once_than_the_limit():
    limited = PasswordHasher(rounds=4, concurrency=2, queue_limit=10)
    counts = slowed(limited)

    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(limited.hash, f"password-{n}")

    assert counts["peak"] == 2


async def test_sign_ins_past_the_queue_limit_are_refused_at_once_and_the_rest_complete():
    limited = PasswordHasher(rounds=4, concurrency=2, queue_limit=3)
    slowed(limited)
    outcomes: list[str] = []

    async def sign_in(n: int) -> None:
        started = time.perf_counter()
        try:
            async with limited.place():
                await limited.hash(f"password-{n}")
            outcomes.append("hashed")
        except HasherBusy as refusal:
            assert refusal.status_code == 503 and refusal.retry_after_seconds > 0
            assert time.perf_counter() - started < 0.01
            outcomes.append("refused")

    async with anyio.create_task_group() as group:
        for n in range(8):
            group.start_soon(sign_in, n)

    assert sorted(outcomes) == ["hashed"] * 5 + ["refused"] * 3
    # Once the burst is over, the hasher takes work again.
    async with limited.place():
        assert (await limited.hash("after")).startswith("$2b$04$")
