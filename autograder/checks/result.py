"""What a check returns: named parts, each passed or failed with a message for the student.

Each part's weight is its share of the grade cell.  The checks choose weights so that, for
the points the notebook gives each cell, every part is worth whole quarter points, and each
line of the feedback says how many points it carries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

QUARTER = 0.25  # points are awarded in quarter points


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
        """One line per part: ✔ or ✘ and what was checked (and, if wrong, what was expected)."""
        return "\n".join(f"  {'✔' if p.passed else '✘'} {p.message}" for p in self.parts)

    def points(self, out_of: float) -> float:
        """The points earned out of ``out_of``, rounded down to a quarter point."""
        return math.floor(self.score * out_of / QUARTER + 1e-9) * QUARTER

    def report(self, out_of: float) -> str:
        """:attr:`message` with each part's points: ``(0.5)`` when passed, ``(0 of 0.5)`` when not."""
        total = sum(p.weight for p in self.parts)
        lines = []
        for p in self.parts:
            share = p.weight / total * out_of if total else 0.0
            worth = "" if not share else f" ({share:g})" if p.passed else f" (0 of {share:g})"
            lines.append(f"  {'✔' if p.passed else '✘'} {p.message}{worth}")
        return "\n".join(lines)
