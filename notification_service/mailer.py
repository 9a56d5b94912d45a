import logging
import smtplib
from email.message import EmailMessage

logger = logging.getLogger(__name__)


class Mailer:
    """Email over SMTP, used only when ENABLE_EMAIL_NOTIFICATIONS=true.

    A failed send is logged and not retried: the notification is already stored, logged and
    streamed, and retrying the whole event would repeat those.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def send(self, to: str, subject: str, body: str) -> bool:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            logger.error("Could not email a notification through %s:%s: %s", self._host, self._port, exc)
            return False
        return True
