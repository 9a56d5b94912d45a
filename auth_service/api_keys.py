"""API keys: how they look, are made and are checked (their storage is `models.ApiKey`)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

API_KEY_START = "tm_"
# `tm_` and 8 hex digits: the prefix, shown in lists and used to find the key's row.
API_KEY_PREFIX_LENGTH = len(API_KEY_START) + 8
# 32 random bytes, base64url (43 characters).
API_KEY_SECRET_BYTES = 32
API_KEY_LENGTH = API_KEY_PREFIX_LENGTH + 1 + 43


@dataclass(frozen=True)
class NewApiKey:
    key: str
    prefix: str
    key_hash: str


def new_api_key() -> NewApiKey:
    """A new key: `tm_<8 hex digits>_<43 characters of base64url>`, with its prefix and hash."""
    prefix = API_KEY_START + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(API_KEY_SECRET_BYTES)}"
    return NewApiKey(key=key, prefix=prefix, key_hash=hash_api_key(key))


def hash_api_key(key: str) -> str:
    """SHA-256: enough for 256 random bits, which no one can guess; bcrypt would only slow every request."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str | None:
    """The prefix of something shaped like one of our keys; None for anything else."""
    if len(key) != API_KEY_LENGTH or not key.isascii() or not key.startswith(API_KEY_START):
        return None
    prefix = key[:API_KEY_PREFIX_LENGTH]
    if key[API_KEY_PREFIX_LENGTH] != "_" or not all(c in "0123456789abcdef" for c in prefix[len(API_KEY_START) :]):
        return None
    return prefix


def api_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), key_hash)
