"""The outcome of applying an import plan, shared by `apply` and `apply_schedules`."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ApplyResult:
    """What an apply did (or, from `preview`, would do), counted by kind."""
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    chains_applied: bool = False

    @property
    def total_created(self) -> int:
        """Objects created, of every kind."""
        return sum(self.created.values())

    @property
    def total_updated(self) -> int:
        """Objects changed, of every kind."""
        return sum(self.updated.values())

    def count(self, kind: str, outcome: str) -> None:
        """Count one object of `kind` as created, updated or unchanged."""
        getattr(self, outcome)[kind] += 1

    def as_dict(self) -> dict:
        """The counts and notes, for the audit log and JSON answers."""
        return {"created": dict(self.created), "updated": dict(self.updated),
                "unchanged": dict(self.unchanged), "notes": self.notes[:50],
                "chains_applied": self.chains_applied}
