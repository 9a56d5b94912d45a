"""The relay's loop on its own: when it waits for the next poll, and what it says while no queue is bound.

Each round's batch is scripted (so many events published, or none routable), so the loop is seen
without a broker or a database; the publishing itself is tested against both in task_service/tests.
"""

import logging

from pika.exceptions import UnroutableError
from prometheus_client import CollectorRegistry

from task_service.messaging import OutboxRelay

BATCH_SIZE = 100
UNROUTABLE = "unroutable"


def relay_running(rounds: list[int | str]) -> tuple[OutboxRelay, list[int]]:
    """A relay that runs `rounds` (events published per round, or UNROUTABLE) and stops; the rounds it idled after."""
    # No session factory: the batches are scripted.
    relay = OutboxRelay(
        None,  # type: ignore[arg-type]
        "amqp://nobody:nothing@127.0.0.1:1/",
        "task_events.unit",
        0.1,
        CollectorRegistry(),
        batch_size=BATCH_SIZE,
    )
    script = iter(rounds)
    played: list[int] = []
    idled_after: list[int] = []

    def publish_batch(channel) -> int:
        outcome = next(script)
        played.append(len(played) + 1)
        if outcome == UNROUTABLE:
            raise UnroutableError([])
        return int(outcome)

    def idle(connection) -> None:
        idled_after.append(played[-1])

    def stop_after_the_script(connection) -> None:
        idle(connection)
        if len(played) == len(rounds):
            relay.stopping.set()

    relay._publish_batch = publish_batch  # type: ignore[method-assign]
    relay._idle = stop_after_the_script  # type: ignore[method-assign]
    relay._relay_until_stopped(None, None)  # type: ignore[arg-type]
    return relay, idled_after


def test_a_full_batch_is_followed_by_the_next_at_once_and_a_partial_one_by_a_wait():
    _, idled_after = relay_running([BATCH_SIZE, BATCH_SIZE, BATCH_SIZE - 1, 0])

    assert idled_after == [3, 4]


def test_no_queue_bound_is_said_once_per_outage_and_the_relay_waits_meanwhile(caplog):
    with caplog.at_level(logging.WARNING, logger="task_service.messaging"):
        _, idled_after = relay_running([UNROUTABLE, UNROUTABLE, 5, UNROUTABLE, UNROUTABLE, 0])

    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2
    assert all("No queue is bound to 'task_events.unit' yet" in warning for warning in warnings)
    assert idled_after == [1, 2, 3, 4, 5, 6]
