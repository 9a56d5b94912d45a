import logging
import sys
import traceback

from common.request_id import RequestIdLogFilter
from common.text import one_line

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] %(message)s"


class OneLineFormatter(logging.Formatter):
    """Every record is one line, whatever text it carries.

    Messages quote user text (task titles, usernames, paths): a line break in it would end the
    line and let the rest pass for a record of its own, so such characters are escaped. A
    traceback, when one is logged, follows on lines indented by a tab, which no record starts with.
    """

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached its own (unindented) rendering of the traceback on the record.
        cached = record.exc_text
        if record.exc_info:
            record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return "\n".join("\t" + one_line(line) for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("\t" + one_line(line) for line in stack_info.splitlines())


def describe_exception(exc: BaseException, limit: int = 300) -> str:
    """`exc` in one line: its type, where it was raised, and the start of its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    message = str(exc)
    if len(message) > limit:
        message = message[:limit] + "..."
    return f"{type(exc).__name__}{where}: {message}"


def configure_logging(level: str) -> None:
    """Send the service's own log records to stdout, where `docker logs` reads them."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request; pika logs each reconnect with a traceback and returned messages
    # with their bodies (user data). The services log what matters themselves.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    # The services log each request themselves (`common.http.AccessLogMiddleware`, one line, its
    # level a setting); uvicorn's own access log would repeat it. Without handlers, uvicorn skips
    # building its line altogether.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers[:] = []
    uvicorn_access.propagate = False


class OutageLog:
    """One line when a dependency starts failing and one when it answers again, however many requests
    meet it in between: a log line per failed request would bury everything else during an outage."""

    def __init__(self, logger: logging.Logger, down: str, back: str, back_level: int = logging.WARNING) -> None:
        self._logger = logger
        self._down = down  # formatted with the exception that began the outage, as `%s`
        self._back = back
        self._back_level = back_level
        self.in_outage = False

    def failed(self, exc: BaseException) -> None:
        if not self.in_outage:
            self.in_outage = True
            self._logger.warning(self._down, exc)

    def succeeded(self) -> None:
        if self.in_outage:
            self.in_outage = False
            self._logger.log(self._back_level, self._back)
