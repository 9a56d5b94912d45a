"""Errors the services raise below their routes; `common.http` turns each into its HTTP answer.

Code that finds something wrong says what it found (a missing task, a refused token, a
dependency that is away); only the edge knows about status codes and headers.
"""


class ServiceError(Exception):
    """Base of the errors a client is told about; `detail` is what they read."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class InvalidRequest(ServiceError):
    status_code = 400


class Unauthorized(ServiceError):
    """Missing, malformed, expired or revoked credentials."""

    status_code = 401


class Forbidden(ServiceError):
    """Valid credentials that may not do this."""

    status_code = 403


class RetryLater(ServiceError):
    """A refusal the client may repeat after `retry_after_seconds`."""

    def __init__(self, detail: str, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class TooManyRequests(RetryLater):
    """This client has used up its share (its live streams, its attempts)."""

    status_code = 429


class Unavailable(RetryLater):
    """The service, or something it depends on, cannot take the request now."""

    status_code = 503


class UpstreamTimeout(RetryLater):
    """Something this service called did not answer in time."""

    status_code = 504
