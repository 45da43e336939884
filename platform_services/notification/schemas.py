"""What the notification service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from platform_services.common.openapi import Operation
from platform_services.common.schemas import Body, Email, Query, Text

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
URL_PATTERN = r"^https?://[^\s/?#]+\S*$"
MAX_URL = 2100


class TemplateBody(Body):
    """A Jinja template (sandboxed) for one notification kind."""
    subject: Annotated[Text, Field(min_length=1, max_length=300)] = Field(
        description="1 to 300 characters")
    body: Annotated[Text, Field(min_length=1, max_length=50_000)] = Field(
        description="1 to 50000 characters")


class ContactBody(Body):
    """Where the tenant's notifications go when a request names no recipient."""
    email: Email | None = Field(None, description="an e-mail address")
    webhook_url: str | None = Field(None, pattern=URL_PATTERN, max_length=MAX_URL,
                                    description="an http(s) URL")


class NotificationRequest(Body):
    """Send one notification now (the recipient checked against the channel)."""
    channel: Literal["email", "webhook", "sms"] = Field(
        "email", description="one of email, webhook, sms")
    template: str = Field(pattern=NAME_PATTERN,
                          description="a template name (lowercase letters, digits, _)")
    to: Annotated[Text, Field(min_length=1, max_length=MAX_URL)] | None = Field(
        None, description="an e-mail address, an http(s) URL or an E.164 phone number, as "
                          "the channel needs (sms: required)")
    data: dict[str, Any] = Field(default_factory=dict,
                                 description="an object of at most 32768 bytes as JSON")
    dedupe_key: str | None = Field(None, pattern=r"^[A-Za-z0-9._:-]{1,200}$",
                                   description="1 to 200 of letters, digits, . _ : -")


class NotificationLog(Query):
    """Filter of the notification log."""
    status: Literal["sending", "sent", "failed", "rate_limited"] | None = Field(
        None, description="one of sending, sent, failed, rate_limited")


OPERATIONS = {
    "notification.put_template": Operation(
        "Save a template", body=TemplateBody,
        path={"name": {"type": "string", "pattern": NAME_PATTERN}}),
    "notification.put_contact": Operation("Set the tenant's contact", body=ContactBody),
    "notification.send": Operation("Send a notification", body=NotificationRequest,
                                   ok=(200, 201), errors=(429, 502)),
    "notification.log": Operation("The tenant's last 100 notifications",
                                  query=NotificationLog),
}
