"""Live notification streams: each open `GET /notifications/stream` of a user gets their new notifications.

The consumer thread hands notifications over with `publish_threadsafe`; delivery happens on the
event loop, which owns the per-stream queues.
"""

import asyncio
import logging
from collections import defaultdict

logger = logging.getLogger(__name__)

MAX_QUEUED_PER_STREAM = 100


class StreamHub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._streams: defaultdict[int, set[asyncio.Queue[str]]] = defaultdict(set)

    def subscribe(self, user_id: int) -> asyncio.Queue[str]:
        stream: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_QUEUED_PER_STREAM)
        self._streams[user_id].add(stream)
        return stream

    def unsubscribe(self, user_id: int, stream: asyncio.Queue[str]) -> None:
        self._streams[user_id].discard(stream)
        if not self._streams[user_id]:
            del self._streams[user_id]

    def open_streams(self) -> int:
        return sum(len(streams) for streams in self._streams.values())

    def publish_threadsafe(self, user_id: int, notification_json: str) -> None:
        self._loop.call_soon_threadsafe(self._deliver, user_id, notification_json)

    def _deliver(self, user_id: int, notification_json: str) -> None:
        for stream in self._streams.get(user_id, ()):
            try:
                stream.put_nowait(notification_json)
            except asyncio.QueueFull:
                # A client that stopped reading loses live items; GET /notifications still has them all.
                logger.warning("Dropped a live notification for user %s: their stream is not reading", user_id)
