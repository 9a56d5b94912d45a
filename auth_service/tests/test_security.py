import pytest

from auth_service.security import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=4, concurrency=1)


def test_hash_verifies_only_the_same_password(hasher):
    hashed = hasher.hash("securepassword123")

    assert hashed.startswith("$2b$04$")
    assert hasher.verify("securepassword123", hashed)
    assert not hasher.verify("securepassword124", hashed)


def test_verify_refuses_rather_than_raises_on_passwords_bcrypt_cannot_take(hasher):
    hashed = hasher.hash("x" * 72)

    assert not hasher.verify("x" * 73, hashed)


def test_verify_without_a_stored_hash_is_false(hasher):
    assert not hasher.verify("decoy-password", None)
