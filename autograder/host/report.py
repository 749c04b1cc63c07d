"""Runs on the host: what grading produced, per grade cell, per submission and for a class."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class CellGrade:
    """One autograded cell: the judge's points, the cell's maximum and its message."""

    grade_id: str
    points: float
    max_points: float
    message: str


@dataclass
class GradeReport:
    """Every autograded cell of one submission, and the totals."""

    score: float
    max_score: float
    cells: list[CellGrade] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as one JSON object (``python -m autograder grade --json``)."""
        return json.dumps(asdict(self))

    def table(self) -> list[str]:
        """One line per grade cell (grade_id, points, max, the first failed or first line), then the total."""
        width = max([len(c.grade_id) for c in self.cells] + [8])
        lines = [f"{'grade_id':<{width}}  {'points':>6}  {'max':>4}  message"]
        for c in self.cells:
            text = [ln.strip() for ln in c.message.splitlines() if ln.strip()]
            wrong = [ln for ln in text if ln.startswith("✘")]
            first = (wrong or text or [""])[0]
            lines.append(f"{c.grade_id:<{width}}  {c.points:>6g}  {c.max_points:>4g}  {first}")
        lines.append(f"{'total':<{width}}  {self.score:>6g}  {self.max_score:>4g}")
        return lines


@dataclass
class Outcome:
    """What grading one submission produced: scores per cell and what happened."""

    student: str
    report: GradeReport | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    autograded_dir: Path | None = None
    worker: str = ""
    failed: bool = False  # grading itself failed (not a low score): grade-all exits non-zero

    def row(self) -> dict:
        """One line of ``grade-all --report``: student, score, seconds, worker, problems."""
        report = self.report
        return {"student": self.student, "score": report.score if report else None,
                "max_score": report.max_score if report else None, "seconds": round(self.seconds, 1),
                "worker": self.worker, "failed": self.failed, "problems": "; ".join(self.problems)}


@dataclass
class ClassSummary:
    """How grading a class went."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    skipped: list[str] = field(default_factory=list)  # already graded, unchanged (--only-new)
    interrupted: bool = False

    @property
    def failed(self) -> list[Outcome]:
        """The submissions that could not be graded."""
        return [o for o in self.outcomes if o.failed]

    def lines(self) -> list[str]:
        """A headline, then one line per student: score, seconds and any problem."""
        problems = [o for o in self.outcomes if o.problems]
        out = [f"graded {len(self.outcomes)} submission(s) in {self.seconds:.0f} s with "
               f"{self.workers} worker(s); {len(problems)} with problems, {len(self.failed)} not graded"
               + (f"; {len(self.skipped)} unchanged since they were graded, skipped" if self.skipped else "")]
        for o in sorted(self.outcomes, key=lambda o: o.student):
            score = f"{o.report.score:g}/{o.report.max_score:g}" if o.report else "-"
            note = f"  ({'; '.join(o.problems)})" if o.problems else ""
            flag = "  NOT GRADED" if o.failed else ""
            out.append(f"  {o.student:<24} {score:>8}  {o.seconds:5.0f} s{flag}{note}")
        if self.interrupted:
            out.append("interrupted: what was graded is recorded; run again with --only-new for the rest")
        return out

    def write(self, path: Path) -> None:
        """The report as CSV, or JSON when ``path`` ends in .json: one row per student."""
        rows = [o.row() for o in sorted(self.outcomes, key=lambda o: o.student)]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(rows, indent=1) + "\n")
            return
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(Outcome("").row()))
            writer.writeheader()
            writer.writerows(rows)
