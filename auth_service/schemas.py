from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from common.text import SINGLE_LINE_PATTERN

BCRYPT_MAX_BYTES = 72
# The longest username or email an account can have (the email column); login names past it match none.
MAX_LOGIN_NAME_LENGTH = 320


def _fits_bcrypt(password: str) -> str:
    if len(password.encode()) > BCRYPT_MAX_BYTES:
        raise ValueError(f"Password must be at most {BCRYPT_MAX_BYTES} bytes long")
    if "\x00" in password:
        # bcrypt cannot hash a NUL byte: refused here rather than failing inside the hasher.
        raise ValueError("Password must not contain NUL characters")
    return password


Password = Annotated[str, Field(min_length=6, examples=["securepassword123"]), AfterValidator(_fits_bcrypt)]
Username = Annotated[
    str,
    Field(
        min_length=3,
        max_length=50,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="3-50 letters, digits, '.', '_' or '-'",
        examples=["johndoe"],
    ),
]


class UserCreate(BaseModel):
    username: Username
    email: EmailStr
    password: Password


class UserUpdate(BaseModel):
    """Any of the fields; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    username: Username | None = None
    email: EmailStr | None = None

    @model_validator(mode="after")
    def _names_a_field_without_nulls(self):
        if not self.model_fields_set:
            raise ValueError("Give at least one of username, email")
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    is_active: bool


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class TokenVerification(BaseModel):
    valid: Literal[True] = True
    id: int
    username: str
    email: str


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=SINGLE_LINE_PATTERN,
        description="What the key is for, to tell keys apart",
        examples=["nightly backup"],
    )


class ApiKeyRead(BaseModel):
    """A key as listed: never the key itself, which is shown once, when it is created."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it", examples=["tm_1a2b3c4d"])
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; null until the key is first used")


class ApiKeyCreated(BaseModel):
    id: int
    name: str
    key: str = Field(description="Send as `X-API-Key`. Shown this once: only its hash is kept")
    prefix: str
    created_at: datetime
