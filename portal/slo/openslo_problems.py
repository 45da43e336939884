"""Reading OpenSLO documents field by field: every problem is kept with the document and
field path it concerns (`document 2 (SLO foo) spec.objectives[0].target`), so the import
page can list them all at once instead of stopping at the first."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

API_VERSION = "openslo/v1"
KINDS = ("SLO", "SLI", "Service", "DataSource", "AlertPolicy", "AlertCondition",
         "AlertNotificationTarget")
# RFC 1123 labels: what the spec requires every implementation to support, and what the
# portal stores as an SLO's name.
DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
# The spec's own examples name other objects in CamelCase (OnCallDevopsMailNotification),
# and implementations are encouraged to accept up to 255 characters.
LOOSE_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._|/\\-]{0,253}[A-Za-z0-9])?", re.ASCII)
MAX_DESCRIPTION = 1050
MAX_DISPLAY_NAME = 255


class Stop(Exception):
    """The current object cannot be read further; its problem is already recorded."""


@dataclass
class Problems:
    """Problems found so far, keyed by 'document N (Kind name) field.path'."""
    found: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, path: str, message: str) -> None:
        """Record one problem (the first per field wins)."""
        self.found.setdefault(f"{where} {path}".strip(), message)

    def stop(self, where: str, path: str, message: str) -> Stop:
        """Record a problem and give the exception that abandons the current object."""
        self.add(where, path, message)
        return Stop()


@dataclass
class Reader:
    """Field access on one document with its label for messages."""
    problems: Problems
    where: str

    def mapping(self, value: object, path: str, *, required: bool = True) -> dict:
        """`value` as a mapping with string keys; a missing optional one is {}."""
        if value is None and not required:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.problems.stop(self.where, path, "expected a mapping of fields"
                                     if value is not None else "required field is missing")
        return value

    def known(self, value: dict, path: str, allowed: tuple[str, ...]) -> None:
        """Flag fields the spec does not define there (a typo would otherwise be lost)."""
        for key in value:
            if key not in allowed:
                self.problems.add(self.where, f"{path}.{key}".lstrip("."),
                                  f"unknown field; allowed here: {', '.join(allowed)}")

    def text(self, value: object, path: str, *, required: bool = False,
             limit: int = MAX_DISPLAY_NAME) -> str:
        """A string field of at most `limit` characters ('' when optional and absent)."""
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.problems.stop(self.where, path, "expected a non-empty string"
                                     if value is not None else "required field is missing")
        if len(value) > limit:
            raise self.problems.stop(self.where, path, f"at most {limit} characters")
        return value

    def number(self, value: object, path: str) -> Decimal:
        """A YAML number as an exact Decimal (booleans and strings refused)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.problems.stop(self.where, path, "expected a number")
        if isinstance(value, int) and abs(value) > 10 ** 12:
            raise self.problems.stop(self.where, path, "number out of range")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.problems.stop(self.where, path, "expected a number") from exc
        if not number.is_finite():
            raise self.problems.stop(self.where, path, "expected a finite number")
        return number

    def boolean(self, value: object, path: str) -> bool | None:
        """An optional boolean field."""
        if value is not None and not isinstance(value, bool):
            raise self.problems.stop(self.where, path, "expected true or false")
        return value

    def name(self, value: object, path: str, *, strict: bool) -> str:
        """An object name: an RFC 1123 label when `strict`, the spec's looser form otherwise."""
        pattern = DNS_LABEL if strict else LOOSE_NAME
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise self.problems.stop(
                self.where, path,
                "1-63 lowercase letters, digits or dashes, starting and ending with a letter "
                "or digit (RFC 1123)" if strict else
                "1-255 letters, digits or . _ | / \\ -, starting and ending with a letter or digit")
        return value

    def description(self, value: object, path: str) -> str:
        """An optional description of at most 1050 characters."""
        return self.text(value, path, limit=MAX_DESCRIPTION)


def label(number: int, doc: object) -> str:
    """'document N (Kind name)' for messages, as far as the document says."""
    if isinstance(doc, dict):
        meta = found if isinstance(found := doc.get("metadata"), dict) else {}
        kind, name = doc.get("kind"), meta.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            return f"document {number} ({kind[:40]} {name[:80]})"
    return f"document {number}"
