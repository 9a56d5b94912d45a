"""Live notification streams: each open `GET /notifications/stream` of a user gets their new notifications.

The consumer thread hands notifications over with `publish_threadsafe`; delivery happens on the
event loop, which owns the per-stream queues. A replica holds at most `max_streams` streams, and
at most `max_streams_per_user` of any one user.
"""

import asyncio
import logging
from collections import defaultdict

from common.errors import TooManyRequests, Unavailable

logger = logging.getLogger(__name__)

MAX_QUEUED_PER_STREAM = 100


class TooManyStreamsForUser(TooManyRequests):
    def __init__(self, limit: int) -> None:
        super().__init__(f"At most {limit} live streams may be open at once; close one first", retry_after_seconds=5)


class StreamCapacityReached(Unavailable):
    def __init__(self) -> None:
        super().__init__("No live stream can be opened on this server now; retry shortly", retry_after_seconds=5)


class StreamHub:
    def __init__(self, loop: asyncio.AbstractEventLoop, max_streams: int, max_streams_per_user: int) -> None:
        self._loop = loop
        self._max_streams = max_streams
        self._max_streams_per_user = max_streams_per_user
        self._streams: defaultdict[int, set[asyncio.Queue[str]]] = defaultdict(set)
        self._open = 0

    def subscribe(self, user_id: int) -> asyncio.Queue[str]:
        if len(self._streams.get(user_id, ())) >= self._max_streams_per_user:
            raise TooManyStreamsForUser(self._max_streams_per_user)
        if self._open >= self._max_streams:
            raise StreamCapacityReached()
        stream: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_QUEUED_PER_STREAM)
        self._streams[user_id].add(stream)
        self._open += 1
        return stream

    def unsubscribe(self, user_id: int, stream: asyncio.Queue[str]) -> None:
        streams = self._streams.get(user_id)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        self._open -= 1
        if not streams:
            del self._streams[user_id]

    def open_streams(self) -> int:
        return self._open

    def publish_threadsafe(self, user_id: int, notification_json: str) -> None:
        self._loop.call_soon_threadsafe(self._deliver, user_id, notification_json)

    def _deliver(self, user_id: int, notification_json: str) -> None:
        for stream in self._streams.get(user_id, ()):
            try:
                stream.put_nowait(notification_json)
            except asyncio.QueueFull:
                # A client that stopped reading loses live items; GET /notifications still has them all.
                logger.warning("Dropped a live notification for user %s: their stream is not reading", user_id)
