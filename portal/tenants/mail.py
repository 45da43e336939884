"""E-mail delivery of scheduled reports over SMTP (TENANTS_SMTP_* settings)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage


class MailUnavailable(RuntimeError):
    """The SMTP server refused or could not be reached."""


def report_message(*, sender: str, to: str, tenant_name: str, title: str, link: str,
                   valid_days: int) -> EmailMessage:
    """The e-mail announcing a finished scheduled report."""
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = f"{tenant_name}: {title} is ready"
    message.set_content(
        f"Your scheduled report \"{title}\" for {tenant_name} is ready.\n\n"
        f"Download it (sign-in required, link valid {valid_days} days):\n{link}\n\n"
        "Meridian Platform Portal\n")
    return message


def send(message: EmailMessage, *, host: str, port: int, timeout: float = 10.0) -> None:
    """Deliver one message; connection errors become MailUnavailable."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(f"SMTP {host}:{port}: {exc}") from exc
