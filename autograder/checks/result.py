"""What a check returns: named parts, each passed or failed with a message for the student."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Part:
    """One thing a check verifies: passed or not, its share of the points, and why."""

    passed: bool
    message: str
    weight: float = 1.0


@dataclass
class CheckResult:
    """All parts of one check; the score is the passed parts' share of the weight."""

    parts: list[Part] = field(default_factory=list)

    def add(self, passed: bool, ok: str, wrong: str, weight: float = 1.0) -> bool:
        """Record a part: ``ok`` is shown when it passes, ``wrong`` (what and what was expected) if not."""
        self.parts.append(Part(bool(passed), ok if passed else wrong, weight))
        return bool(passed)

    def fail(self, message: str, weight: float = 1.0) -> CheckResult:
        """Record a part that could not pass (e.g. a missing variable)."""
        self.parts.append(Part(False, message, weight))
        return self

    @property
    def score(self) -> float:
        """Fraction of the weight earned, in [0, 1]."""
        total = sum(p.weight for p in self.parts)
        return sum(p.weight for p in self.parts if p.passed) / total if total else 0.0

    @property
    def message(self) -> str:
        return "\n".join(f"  {'✔' if p.passed else '✘'} {p.message}" for p in self.parts)
