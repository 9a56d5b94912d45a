"""A live notification stream read on a thread of its own, as a browser's EventSource would."""

import threading
from collections.abc import Callable
from contextlib import suppress

import httpx


class StreamListener:
    """Every line the stream sends, in order, until it ends (or a line `until` picks, when given).

    `connected` is set once the first line arrives: the service is then listening for events.
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        timeout: httpx.Timeout | float = 20,
        until: Callable[[str], bool] | None = None,
    ) -> None:
        self.lines: list[str] = []
        self.content_type: str | None = None
        self.connected = threading.Event()
        self._url, self._headers, self._timeout, self._until = url, headers, timeout, until
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        # A stream broken off is no error here: the test reads what arrived.
        with (
            suppress(httpx.HTTPError),
            httpx.stream("GET", self._url, headers=self._headers, timeout=self._timeout) as sse,
        ):
            self.content_type = sse.headers.get("content-type")
            for line in sse.iter_lines():
                self.lines.append(line)
                self.connected.set()
                if self._until is not None and self._until(line):
                    return
