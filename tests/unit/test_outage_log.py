"""common.logging.OutageLog: one line when an outage begins and one when it ends, whatever happens between."""

import logging

import pytest

from common.logging import OutageLog


@pytest.fixture
def outage(caplog: pytest.LogCaptureFixture) -> OutageLog:
    caplog.set_level(logging.DEBUG, logger="outage-test")
    return OutageLog(logging.getLogger("outage-test"), "store down: %s", "store back", back_level=logging.INFO)


def test_many_failures_and_successes_log_the_start_and_the_end_once_each(outage, caplog):
    outage.succeeded()
    for attempt in range(5):
        outage.failed(ConnectionError(f"refused {attempt}"))
    for _ in range(5):
        outage.succeeded()

    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.WARNING, "store down: refused 0"),
        (logging.INFO, "store back"),
    ]
    assert not outage.in_outage


def test_a_second_outage_is_logged_again(outage, caplog):
    outage.failed(TimeoutError("first"))
    outage.succeeded()
    outage.failed(TimeoutError("second"))

    assert [record.getMessage() for record in caplog.records] == [
        "store down: first",
        "store back",
        "store down: second",
    ]
    assert outage.in_outage
