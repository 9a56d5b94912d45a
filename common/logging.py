import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import TextIO

from common.request_id import RequestIdLogFilter
from common.telemetry import trace_id_of_current_span
from common.text import one_line

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] [%(trace_id)s] %(message)s"


class TraceIdLogFilter(logging.Filter):
    """The current trace's id on every record (`-` outside any trace)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = trace_id_of_current_span()
        return True


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


class JsonFormatter(logging.Formatter):
    """One JSON object per record and per line: a traceback is a field, never lines of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def describe_exception(exc: BaseException, limit: int = 300) -> str:
    """`exc` in one line: its type, where it was raised, and the start of its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    message = str(exc)
    if len(message) > limit:
        message = message[:limit] + "..."
    return f"{type(exc).__name__}{where}: {message}"


def log_handler(stream: TextIO, log_format: str) -> logging.Handler:
    """Records to `stream` as `text` (one readable line each) or `json` (one JSON object per line),
    each with its request and trace ids."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else OneLineFormatter(LOG_FORMAT))
    handler.addFilter(RequestIdLogFilter())
    handler.addFilter(TraceIdLogFilter())
    return handler


def configure_logging(level: str, log_format: str) -> None:
    """Send the service's own log records to stdout, where `docker logs` reads them (see `log_handler`)."""
    handler = log_handler(sys.stdout, log_format)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request, and urllib3 (under the trace exporter) every export; pika logs each
    # reconnect with a traceback and returned messages with their bodies (user data). The services
    # log what matters themselves.
    for chatty in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    # The services log each request themselves (`common.http.AccessLogMiddleware`, one line, its
    # level a setting); uvicorn's own access log would repeat it. Without handlers, uvicorn skips
    # building its line altogether.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers[:] = []
    uvicorn_access.propagate = False
    # uvicorn's own records (start-up, shutdown, errors) in the service's format too, JSON included.
    # Only the two it prints before the application starts keep uvicorn's.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True


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
