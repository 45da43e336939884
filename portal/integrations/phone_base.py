"""What the phone facade (`portal.integrations.phone`) and every provider kind share: one
configured provider's account and the error they raise. A module of its own, so provider
kinds need not import the facade that imports them."""
from __future__ import annotations

from dataclasses import dataclass


class PhoneError(Exception):
    """An SMS or call could not be placed; the message is safe to log and show.

    `kind` says what went wrong: `transient` (network, 5xx, 429: worth trying again later),
    `provider` (this provider refused our credentials or address) or `rejected` (the
    message itself was refused, e.g. an invalid number: trying again will not help).
    """

    def __init__(self, message: str, *, kind: str = "transient", code: int | None = None):
        super().__init__(message)
        self.kind, self.code = kind, code

    @property
    def transient(self) -> bool:
        """Whether a later attempt may succeed (False for a refused message)."""
        return self.kind != "rejected"


@dataclass(frozen=True)
class Account:
    """One configured provider: PHONE_PROVIDER_<ROLE>{,_URL,_ACCOUNT_SID,_AUTH_TOKEN,_FROM}."""
    role: str  # "primary" | "backup"
    kind: str
    base_url: str
    account_sid: str
    auth_token: str
    sender: str

    def __repr__(self) -> str:  # never print the token
        return f"Account({self.role}, {self.kind}, {self.base_url}, {self.account_sid})"
