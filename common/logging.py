import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


def configure_logging(level: str) -> None:
    """Send the service's own log records to stdout, where `docker logs` reads them."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pika logs each reconnect attempt with a traceback and httpx every request; ours say what matters.
    for chatty in ("pika", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
