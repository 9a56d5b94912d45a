import logging
import smtplib
from email.errors import HeaderParseError
from email.message import EmailMessage

from common.text import header_safe

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
        """Whether the message went out; never raises, so no text can make its event fail for good.

        The subject comes from user text (the task title): line breaks and other control
        characters become spaces, so it stays one header and cannot add others (Bcc: ...).
        A recipient with such characters is no address at all, and is not mailed.
        """
        if header_safe(to) != to:
            logger.error("Not emailing a notification: the recipient address holds control characters")
            return False
        message = EmailMessage()
        try:
            message["From"] = self._sender
            message["To"] = to
            message["Subject"] = header_safe(subject)
            message.set_content(body)
        except (ValueError, TypeError, HeaderParseError) as exc:
            logger.error("Not emailing a notification: it cannot be written as a message (%s)", exc)
            return False
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            logger.error("Could not email a notification through %s:%s: %s", self._host, self._port, exc)
            return False
        return True
