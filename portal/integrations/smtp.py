"""The portal's one SMTP client: every domain that sends e-mail (page notifications,
scheduled reports) goes through `send`, configured by the portal-wide SMTP_* settings."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage


class MailUnavailable(RuntimeError):
    """The SMTP server refused the message or could not be reached."""


@dataclass(frozen=True)
class Relay:
    host: str
    port: int = 25
    sender: str = "portal@meridian.example"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> Relay | None:
        """The relay of the app config, or None when SMTP_HOST is unset (e-mail disabled)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_FROM"],
                   config["SMTP_TIMEOUT"])


def message(*, relay: Relay, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the relay's sender."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = relay.sender, to, subject
    mail.set_content(body)
    return mail


def send(mail: EmailMessage, *, relay: Relay) -> None:
    """Deliver one message; refusals and connection errors become MailUnavailable."""
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout) as smtp:
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(f"SMTP {relay.host}:{relay.port}: {exc}") from exc
