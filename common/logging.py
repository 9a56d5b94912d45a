import logging
import sys

from common.request_id import RequestIdLogFilter

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] %(message)s"


def configure_logging(level: str) -> None:
    """Send the service's own log records to stdout, where `docker logs` reads them."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
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
