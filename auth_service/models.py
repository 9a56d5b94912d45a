from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.db import Base
from common.db import UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(320))
    hashed_password: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every token; raising it (on a password change) invalidates all tokens issued before.
    token_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Unique regardless of case, so "JohnDoe" cannot shadow "johndoe" at login.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class RevokedToken(Base):
    """A token signed out before it expired; kept until its expiry, when it is refused anyway."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiKey(Base):
    """A key a machine client sends as `X-API-Key`, acting as its user.

    Only the SHA-256 of the whole key is kept: keys are random (256 bits), so a fast hash is as
    good as a slow one against guessing, and it costs nothing on every request. `prefix` (shown
    in lists, and the start of the key itself) finds the row.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Kept to the minute: written at most once a minute per key, not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
