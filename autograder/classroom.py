"""Grade a whole class: every collected submission, in parallel, each isolated and limited.

Each submission is graded by :func:`autograder.isolated.grade_in_scratch` in its own scratch
course (its own nbgrader process, sandboxed kernel and judge), several at a time.  Only this
process writes to the course: it copies each graded notebook into ``autograded/`` and records
the scores in the course's gradebook through nbgrader's API, one submission at a time, so
the gradebook (SQLite, or any database nbgrader's ``db_url`` names) is never written
concurrently.  Grading again gives the same results.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder.isolated import Outcome, grade_in_scratch
from autograder.pipeline import GradingError, make_course
from autograder.sandbox import Limits, tools


@dataclass
class ClassSummary:
    """How grading a class went."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    def lines(self) -> list[str]:
        problems = [o for o in self.outcomes if o.problems]
        out = [f"graded {len(self.outcomes)} submission(s) in {self.seconds:.0f} s with "
               f"{self.workers} worker(s); {len(problems)} with problems"]
        for o in sorted(self.outcomes, key=lambda o: o.student):
            score = f"{o.report.score:g}/{o.report.max_score:g}" if o.report else "-"
            note = f"  ({'; '.join(o.problems)})" if o.problems else ""
            out.append(f"  {o.student:<24} {score:>8}  {o.seconds:5.0f} s{note}")
        return out


def db_url(course: Path) -> str:
    """The gradebook URL the course's nbgrader_config.py sets (default: SQLite in the course)."""
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course / "nbgrader_config.py"
    if not config_file.is_file():
        raise GradingError(f"{course} is not an nbgrader course: no nbgrader_config.py")
    config = PyFileConfigLoader(config_file.name, path=str(course)).load_config()
    url = config.get("CourseDirectory", {}).get("db_url")
    return url or f"sqlite:///{course / 'gradebook.db'}"


def record(course: Path, url: str, assignment: str, outcome: Outcome) -> None:
    """Write one outcome into the course: graded notebook into autograded/, scores into the gradebook."""
    from nbgrader.api import Gradebook

    if outcome.autograded_dir is not None:
        target = course / "autograded" / outcome.student / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(outcome.autograded_dir, target)
        outcome.autograded_dir = target
    scores = {c.grade_id: c.points for c in outcome.report.cells} if outcome.report else {}
    with Gradebook(url) as gb, warnings.catch_warnings():
        # nbgrader's update_or_create_submission trips SQLAlchemy autoflush warnings; harmless.
        warnings.simplefilter("ignore")
        gb.update_or_create_student(outcome.student)
        submission = gb.update_or_create_submission(assignment, outcome.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.name in scores:
                    grade.auto_score = scores[grade.name]
        gb.db.commit()


def submissions(course: Path, assignment: str) -> dict[str, Path]:
    """student id -> their collected submission folder for ``assignment``."""
    root = course / "submitted"
    return {p.parent.name: p for p in sorted(root.glob(f"*/{assignment}")) if p.is_dir()}


def grade_all(course: Path, assignment: str, workers: int | None = None, timeout: float = 300,
              limits: Limits | None = None, progress: bool = True) -> ClassSummary:
    """Grade every submission of ``assignment`` in ``course``; one failure never stops the rest."""
    tools()  # refuse to run student code without the sandbox
    course = course.resolve()
    url = db_url(course)
    found = submissions(course, assignment)
    if not found:
        raise GradingError(f"no submissions for {assignment!r} under {course / 'submitted'}")
    workers = workers or os.cpu_count() or 1
    limits = limits or Limits()
    summary = ClassSummary(workers=workers)
    started = time.perf_counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="grade-all-") as tmp:
        template = Path(tmp) / "template"
        make_course(template, assignment, source_root=course)

        def one(student: str, folder: Path) -> Outcome:
            scratch = Path(tempfile.mkdtemp(prefix=f"{student[:20]}-", dir=tmp))
            try:
                outcome = grade_in_scratch(template, assignment, student, folder, scratch, timeout, limits)
                with lock:
                    if outcome.report is not None:
                        record(course, url, assignment, outcome)
                return outcome
            except Exception as exc:  # grading this one failed: report it, keep the class going
                return Outcome(student, problems=[f"grading failed: {type(exc).__name__}: {exc}"])
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=workers) as pool, \
                tqdm(total=len(found), desc="grading", unit="submission", disable=not progress) as bar:
            futures = [pool.submit(one, s, f) for s, f in found.items()]
            for future in as_completed(futures):
                summary.outcomes.append(future.result())
                bar.update()
    summary.seconds = time.perf_counter() - started
    return summary
