from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from notification_service.mailer import Mailer
from notification_service.main import create_app
from notification_service.tests.events import task_event
from notification_service.tests.smtp import Inbox, receiving_mail
from tests.helpers import EMAIL_SMTP_PORT, app_state, poll


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with receiving_mail(EMAIL_SMTP_PORT) as received:
        yield received


def test_with_email_enabled_each_event_is_mailed_to_the_task_owner(settings, user, publish, inbox):
    email_settings = settings.model_copy(
        update={
            "enable_email_notifications": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": EMAIL_SMTP_PORT,
            "smtp_starttls": False,
        }
    )
    with TestClient(create_app(email_settings)) as client:
        # Until the consumer has declared its queue, a published event has nowhere to go.
        poll(lambda: app_state(client).consumer.connected)
        publish(task_event(user, task_id=3, title="Mail me"))
        [message] = poll(lambda: [m for _, m in inbox.messages if m["To"] == user["email"]])

    assert message["Subject"] == "Task 'Mail me' was created (status: Pending)"
    assert user["username"] in message.get_payload()


def test_a_failed_send_is_reported_not_raised():
    mailer = Mailer("127.0.0.1", 1, "from@example.com", None, None, starttls=False, timeout=2)

    assert mailer.send("to@example.com", "subject", "body") is False
