"""User text where it could do harm: in a log line, a mail header, a stored field, an error response."""

import io
import logging

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from auth_service.schemas import PasswordChange, UserCreate
from auth_service.security import PasswordHasher
from common.config import ServiceSettings
from common.http import install_http_conventions
from common.logging import describe_exception, log_handler
from common.text import header_safe, one_line
from notification_service.schemas import TaskEventData
from task_service.schemas import TaskCreate, TaskUpdate

FORGERY = "done\r\n2026-01-01 00:00:00,000 INFO [auth_service] [-] admin logged in"


def test_one_line_escapes_every_character_that_could_end_a_line():
    assert one_line(FORGERY) == "done\\r\\n2026-01-01 00:00:00,000 INFO [auth_service] [-] admin logged in"
    assert one_line("a\x00b\x1bc\x85d\u2028e\u2029f\tg\x7f") == "a\\x00b\\x1bc\\x85d\\u2028e\\u2029f\\tg\\x7f"
    assert one_line("Ünïcödé 😀 stays") == "Ünïcödé 😀 stays"


def test_header_safe_leaves_one_line_of_text():
    assert header_safe("Task 'x\r\nBcc: all@example.com' was created") == "Task 'x Bcc: all@example.com' was created"
    assert header_safe("a\x00b\u2028c") == "a b c"


def log_output(message: str, *args, exc_info=None) -> str:
    stream = io.StringIO()
    handler = log_handler(stream, "text")
    logger = logging.getLogger("tests.one_line")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(message, *args, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_user_text_in_a_log_message_cannot_start_a_record_of_its_own():
    output = log_output("Notification for %s: %s", "mallory\n", FORGERY)

    assert output.count("\n") == 1
    assert "admin logged in" in output


def test_a_logged_traceback_is_indented_so_no_line_of_it_passes_for_a_record():
    try:
        raise ValueError(FORGERY)
    except ValueError as exc:
        output = log_output("failed", exc_info=exc)

    first, *rest = output.rstrip("\n").split("\n")
    assert first.endswith("failed")
    assert rest
    assert all(line.startswith("\t") for line in rest)


def test_describe_exception_is_one_line_with_where_and_a_bounded_message():
    try:
        raise RuntimeError("x" * 1000)
    except RuntimeError as exc:
        described = describe_exception(exc)

    assert described.startswith("RuntimeError at test_hostile_text.py:")
    assert described.endswith("...")
    assert len(described) < 400


@pytest.fixture
def failing_app() -> TestClient:
    app = FastAPI()
    app.state.settings = ServiceSettings()
    install_http_conventions(app)

    @app.get("/boom")
    def boom():
        raise RuntimeError("(pymysql.err.OperationalError) SELECT secret FROM users at db-internal:3306")

    return TestClient(app)


def test_an_unhandled_error_is_a_bare_500_logged_once_in_one_line(failing_app, caplog):
    with caplog.at_level(logging.ERROR):
        response = failing_app.get("/boom")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is None
    assert "RuntimeError at test_hostile_text.py" in record.getMessage()
    assert "GET /boom" in record.getMessage()


@pytest.mark.parametrize(
    "title",
    ["", "   ", "a\x00b", "line\nbreak", "tab\there", "esc\x1b[2J", "del\x7f", "c1\x9bx", "sep\u2028x", "x" * 201],
)
def test_a_title_is_one_line_of_at_most_200_characters(title):
    with pytest.raises(ValidationError):
        TaskCreate(title=title)
    with pytest.raises(ValidationError):
        TaskUpdate(title=title)


@pytest.mark.parametrize("title", ["😀" * 200, "Ünïcödé", "  padded  ", "right-to-left \u202e override"])
def test_a_title_may_be_any_printable_text(title):
    assert TaskCreate(title=title).title == title.strip()


def test_a_description_may_span_lines_but_holds_no_other_control_characters():
    assert TaskCreate(title="t", description="one\ntwo\r\n\tthree").description == "one\ntwo\r\n\tthree"
    assert TaskCreate(title="t", description="😀" * 10_000).description == "😀" * 10_000
    for description in ("nul\x00", "bell\x07", "esc\x1b", "x" * 10_001):
        with pytest.raises(ValidationError):
            TaskCreate(title="t", description=description)


@pytest.mark.parametrize("password", ["abc\x00def", "\x00" * 8, "x" * 73, "é" * 37, "short"])
def test_a_password_bcrypt_cannot_hash_is_refused_at_registration_and_on_change(password):
    with pytest.raises(ValidationError):
        UserCreate(username="johndoe", email="john@example.com", password=password)
    with pytest.raises(ValidationError):
        PasswordChange(current_password="whatever", new_password=password)


def test_a_task_event_holds_only_what_the_notification_columns_can_store():
    valid = {"task_id": 1, "title": "t", "status": "Pending", "user_id": 1, "username": "u", "email": "u@e.com"}
    TaskEventData(**valid)
    for change in (
        {"task_id": 2**31},
        {"user_id": 0},
        {"user_id": 10**30},
        {"status": "s" * 51},
        {"username": "u" * 51},
        {"title": "t" * 201},
        {"description": "d" * 10_001},
    ):
        with pytest.raises(ValidationError):
            TaskEventData(**{**valid, **change})


class CountingContext:
    """A CryptContext stand-in that counts the bcrypt checks it is asked for."""

    def __init__(self, real) -> None:
        self.real = real
        self.checks = 0

    def verify(self, password: str, hashed: str) -> bool:
        self.checks += 1
        return self.real.verify(password, hashed)


@pytest.mark.parametrize("password", ["wrong-password", "nul\x00inside", "\x00", "x" * 73, "😀" * 19])
@pytest.mark.parametrize("account_exists", [True, False])
def test_every_refused_password_costs_exactly_one_bcrypt_check(password, account_exists):
    """So the time of a refusal says nothing of whether the account exists or what was wrong."""
    hasher = PasswordHasher(rounds=4, concurrency=1, queue_limit=1)
    hashed = hasher._context.hash("the-real-password") if account_exists else None
    counting = CountingContext(hasher._context)
    hasher._context = counting

    assert anyio.run(hasher.verify, password, hashed) is False
    assert counting.checks == 1
