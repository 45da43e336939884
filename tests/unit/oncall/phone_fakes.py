"""A phone provider stand-in with the interface of `portal.integrations.phone`
(`send_sms(*, to, body)` and `call(*, to, message)` returning the provider's id, or raising
`phone.PhoneError`): it records what it was asked to send and fails on request. The real
provider and its failover have their own tests against a local Twilio-compatible server."""
from __future__ import annotations

from portal.oncall import notify


class FakePhone:
    def __init__(self) -> None:
        self.sms: list[dict] = []
        self.calls: list[dict] = []
        self.fail: tuple[str, str] | None = None  # (kind, message) of the next failures

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            kind, message = self.fail
            raise notify.phone_module().PhoneError(message, kind=kind)

    def send_sms(self, *, to: str, body: str) -> str:
        self._maybe_fail()
        self.sms.append({"to": to, "body": body})
        return f"SM{len(self.sms):032x}"

    def call(self, *, to: str, message: str) -> str:
        self._maybe_fail()
        self.calls.append({"to": to, "message": message})
        return f"CA{len(self.calls):032x}"
