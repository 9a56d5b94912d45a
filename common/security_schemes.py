"""The two ways a client proves who it is, declared alike in every service (the auth service's too),
so one "Authorize" in the gateway's merged docs covers them all."""

from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)
API_KEY_HEADER = "X-API-Key"
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="APIKeyHeader",
    description="An API key from `POST /auth/api-keys`, instead of a bearer token",
    auto_error=False,
)
