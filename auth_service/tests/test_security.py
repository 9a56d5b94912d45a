import time

import anyio
import pytest

from auth_service.security import PasswordHasher

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def hasher() -> PasswordHasher:
    # Built inside the event loop, as the service's lifespan does (its limiter belongs to the loop).
    return PasswordHasher(rounds=4, concurrency=1)


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


async def test_no_more_hashes_run_at_once_than_the_limit():
    limited = PasswordHasher(rounds=4, concurrency=2)
    running = peak = 0
    original_hash = limited._context.hash

    def counting_hash(password: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            time.sleep(0.05)
            return original_hash(password)
        finally:
            running -= 1

    limited._context.hash = counting_hash
    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(limited.hash, f"password-{n}")

    assert peak == 2
