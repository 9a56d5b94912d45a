"""The token-check cache with API keys, on a stand-in for Redis: keys are cached, and refused after a revocation."""

import pytest
from prometheus_client import CollectorRegistry, Counter

from common.errors import Unauthorized
from common.remote_auth import AuthenticatedUser, Credential, VerifiedTokenCache, get_credential
from common.revocations import RevocationCounters

pytestmark = pytest.mark.anyio

ALICE = AuthenticatedUser(id=7, username="alice", email="alice@example.com")
KEY = Credential("tm_0123abcd_" + "k" * 43, is_api_key=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Counters(RevocationCounters):
    """Revocation counters as Redis keeps them, without Redis."""

    def __init__(self) -> None:  # no Redis client: every method that would use one is replaced here
        self.values: dict[int, int] = {}
        self.reads: list[int] = []

    async def read(self, user_id: int) -> bytes | None:
        self.reads.append(user_id)
        value = self.values.get(user_id)
        return None if value is None else str(value).encode()

    async def raise_for(self, user_id: int) -> None:
        self.values[user_id] = self.values.get(user_id, 0) + 1


class AuthService:
    def __init__(self) -> None:
        self.asked: list[Credential] = []
        self.revoked: set[Credential] = set()

    async def __call__(self, credential: Credential) -> AuthenticatedUser:
        self.asked.append(credential)
        if credential in self.revoked:
            raise Unauthorized("Invalid API key")
        return ALICE


def hits() -> Counter:
    return Counter("hits", "cache hits", registry=CollectorRegistry())


async def test_a_keys_first_check_learns_its_owner_and_later_ones_are_cached():
    counters, auth = Counters(), AuthService()
    cache = VerifiedTokenCache(counters, lifetime_seconds=30)
    counter = hits()

    answers = [await cache.verify(KEY, auth, counter) for _ in range(4)]

    assert answers == [ALICE] * 4
    # The first answer came before any counter was read, so it is not reused; the second is.
    assert len(auth.asked) == 2
    assert counter._value.get() == 2
    assert counters.reads == [ALICE.id] * 3


async def test_a_deleted_key_is_asked_about_again_on_the_very_next_check():
    counters, auth = Counters(), AuthService()
    cache = VerifiedTokenCache(counters, lifetime_seconds=30)
    counter = hits()
    for _ in range(3):
        await cache.verify(KEY, auth, counter)

    auth.revoked.add(KEY)
    await counters.raise_for(ALICE.id)

    with pytest.raises(Unauthorized):
        await cache.verify(KEY, auth, counter)


async def test_two_keys_of_one_user_are_cached_apart():
    counters, auth = Counters(), AuthService()
    cache = VerifiedTokenCache(counters, lifetime_seconds=30)
    other_key = Credential("tm_99999999_" + "z" * 43, is_api_key=True)
    for _ in range(2):
        await cache.verify(KEY, auth, hits())

    auth.revoked.add(other_key)
    with pytest.raises(Unauthorized):
        await cache.verify(other_key, auth, hits())


async def test_a_bearer_token_and_a_key_together_are_refused():
    with pytest.raises(Unauthorized, match="not both"):
        await get_credential(token="a.b.c", api_key=KEY.value)


@pytest.mark.parametrize(
    ("token", "api_key", "expected"),
    [("a.b.c", None, Credential("a.b.c")), (None, KEY.value, KEY)],
)
async def test_either_credential_is_taken(token, api_key, expected):
    assert await get_credential(token=token, api_key=api_key) == expected


async def test_a_key_is_forwarded_as_x_api_key():
    assert KEY.header() == ("X-API-Key", KEY.value)
    assert Credential("a.b.c").header() == ("Authorization", "Bearer a.b.c")
