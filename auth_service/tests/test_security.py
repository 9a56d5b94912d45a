import pytest
from pydantic import ValidationError

from auth_service.config import DEFAULT_JWT_SECRET, Settings
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


def test_production_refuses_the_development_secrets():
    with pytest.raises(ValidationError, match="jwt_secret_key"):
        Settings(environment="production", database_url="postgresql+psycopg2://auth:s3cret@db/auth")


def test_production_accepts_real_secrets():
    settings = Settings(
        environment="production",
        jwt_secret_key="a-real-secret-that-is-long-enough-0123456789",
        database_url="postgresql+psycopg2://auth:s3cret@db/auth",
    )

    assert settings.jwt_secret_key != DEFAULT_JWT_SECRET
