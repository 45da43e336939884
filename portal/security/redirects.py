"""The one check every user-supplied redirect target (`next`, `return_to`) goes through."""
from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import redirect, url_for

MAX_TARGET_LENGTH = 2048


def _is_local_path(candidate: str) -> bool:
    if not candidate.startswith("/") or candidate.startswith("//"):
        return False
    if "\\" in candidate or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return False
    parts = urlsplit(candidate)
    return not parts.scheme and not parts.netloc


def safe_target(target: str | None) -> str | None:
    """`target` when it is a same-origin relative path, else None.

    Browsers strip tabs and newlines, treat backslashes as slashes and normalise fullwidth
    characters, so the raw value, its percent-decoded form and its NFKC form must all be a
    plain path; anything outside printable ASCII is refused outright.
    """
    if not target or len(target) > MAX_TARGET_LENGTH or not target.isascii():
        return None
    decoded = unquote(target)
    forms = (target, decoded, unquote(decoded), unicodedata.normalize("NFKC", decoded))
    return target if all(_is_local_path(form) for form in forms) else None


def safe_redirect(target: str | None, fallback_endpoint: str, code: int = 303, **values):
    """Redirect to `target` when it is safe, else to `fallback_endpoint`."""
    return redirect(safe_target(target) or url_for(fallback_endpoint, **values), code=code)
