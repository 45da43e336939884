"""E-mail addresses the services accept, read by email-validator: the syntax of RFC 5322
and RFC 6531 (internationalized addresses) without quoted local parts, and no reserved
domain such as .test or .localhost. No DNS lookup: the address is checked, not whether
its domain receives mail."""
from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 320  # what the schemas document; email-validator's own limits are tighter


def is_email(value: Any) -> bool:
    """True for a string that is a valid e-mail address."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
