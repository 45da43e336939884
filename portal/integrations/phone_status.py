"""`POST /integrations/twilio/status`: delivery reports of the SMS and calls the portal
placed (PHONE_STATUS_CALLBACK asks the provider for them).

No session, no CSRF token and no API token: the provider authenticates each request with
X-Twilio-Signature, computed with the auth token of the account that sent the message
(the AccountSid parameter says which of ours) over the exact URL it called, which is
PUBLIC_BASE_URL + this path. Anything unsigned, wrongly signed or from an account that is
not ours answers 403; a signed but malformed report 400. A valid report is sent as the
`phone_status` signal (whoever recorded the SID updates it) and written to the audit log.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, request

from portal import events
from portal.auth.access import audit_action
from portal.extensions import csrf, db
from portal.integrations import phone, twilio

log = logging.getLogger(__name__)
bp = Blueprint("phone_status", __name__)

SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
ERROR_CODE = re.compile(r"^[0-9]{1,6}$")
# Values documented for the MessageStatus and CallStatus callback parameters.
SMS_STATUSES = frozenset({"accepted", "scheduled", "canceled", "queued", "sending", "sent",
                          "failed", "delivered", "undelivered", "receiving", "received",
                          "read", "partially_delivered"})
CALL_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress", "completed",
                           "busy", "failed", "no-answer", "canceled"})
REFUSED = {"error": "the request signature could not be verified"}


@bp.post(phone.STATUS_PATH)
@csrf.exempt
def twilio_status():
    try:
        accounts = phone.accounts(current_app.config)
    except phone.PhoneError as exc:
        log.error("phone status callback: phone providers misconfigured: %s", exc)
        accounts = []
    if not accounts:
        return {"error": "no phone provider is configured on this portal"}, 503
    form = request.form
    account = next((a for a in accounts if a.account_sid == form.get("AccountSid")), None)
    url = phone.status_callback_url(current_app.config)
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    if account is None or not twilio.valid_signature(
            account.auth_token, url, form.items(multi=True),
            request.headers.get("X-Twilio-Signature")):
        log.warning("phone status callback refused: bad signature or unknown account")
        return REFUSED, 403
    try:
        report = _report(form)
    except ValueError as exc:
        return {"error": "malformed status report", "detail": str(exc)}, 400
    events.phone_status.send(current_app._get_current_object(), session=db.session,
                             provider=account.role, **report)
    audit_action("phone.status_received", actor_email=f"{account.kind}:{account.role}",
                 target_type=report["kind"], target_id=report["sid"],
                 details={"status": report["status"], "error_code": report["error_code"]})
    return "", 204


def _report(form) -> dict:
    """kind, sid, status and error_code of a message or call status report."""
    if "MessageSid" in form:
        kind, sid, status, allowed = ("sms", form.get("MessageSid"),
                                      form.get("MessageStatus"), SMS_STATUSES)
    elif "CallSid" in form:
        kind, sid, status, allowed = "call", form.get("CallSid"), form.get("CallStatus"), \
            CALL_STATUSES
    else:
        raise ValueError("neither MessageSid nor CallSid")
    if not SID.match(sid or ""):
        raise ValueError("the SID is not a provider SID")
    if status not in allowed:
        raise ValueError(f"unknown {kind} status")
    code = form.get("ErrorCode") or None
    if code is not None and not ERROR_CODE.match(code):
        raise ValueError("ErrorCode is not a number")
    return {"kind": kind, "sid": sid, "status": status,
            "error_code": int(code) if code else None}
