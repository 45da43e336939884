"""The e-mail announcing a finished scheduled report, sent through the portal's one SMTP
client (portal.integrations.smtp, configured by the portal-wide SMTP_* settings)."""
from __future__ import annotations

from email.message import EmailMessage

from portal.integrations import smtp


def report_message(*, relay: smtp.Relay, to: str, tenant_name: str, title: str, link: str,
                   valid_days: int) -> EmailMessage:
    """The e-mail announcing a finished scheduled report."""
    return smtp.message(
        relay=relay, to=to, subject=f"{tenant_name}: {title} is ready",
        body=(f"Your scheduled report \"{title}\" for {tenant_name} is ready.\n\n"
              f"Download it (sign-in required, link valid {valid_days} days):\n{link}\n\n"
              "Meridian Platform Portal\n"))
