"""Runs on the host: grade a whole class, every collected submission, in parallel, each isolated.

Each submission is graded by :func:`autograder.host.submission.grade_submission` in its own
scratch course (its own nbgrader process, sandboxed kernel and judge), several at a time.
Only this process writes to the course: it copies each graded notebook into ``autograded/``
and records the scores in the course's gradebook through nbgrader's API, one submission at
a time, so the gradebook (SQLite, or any database nbgrader's ``db_url`` names) is never
written concurrently.  Grading again gives the same results.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder.host.course import GradingError, make_course, submissions
from autograder.host.report import ClassSummary, Outcome
from autograder.host.sandbox import tools
from autograder.host.settings import SafeGrading, db_url, load_settings
from autograder.host.submission import grade_submission


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


def grade_all(course: Path, assignment: str, settings: SafeGrading | None = None,
              progress: bool = True) -> ClassSummary:
    """Grade every submission of ``assignment`` in ``course``; one failure never stops the rest.

    ``settings`` default to the course's configuration (:func:`autograder.host.settings.load_settings`).
    """
    tools()  # refuse to run student code without the sandbox
    course = course.resolve()
    settings = settings or load_settings(course)
    url = db_url(course)
    found = submissions(course, assignment)
    if not found:
        raise GradingError(f"no submissions for {assignment!r} under {course / 'submitted'}")
    summary = ClassSummary(workers=settings.worker_count)
    started = time.perf_counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="grade-all-") as tmp:
        template = Path(tmp) / "template"
        make_course(template, assignment, source_root=course)

        def one(student: str, folder: Path) -> Outcome:
            scratch = Path(tempfile.mkdtemp(prefix=f"{student[:20]}-", dir=tmp))
            try:
                outcome = grade_submission(template, assignment, student, folder, scratch, settings)
                with lock:
                    if outcome.report is not None:
                        record(course, url, assignment, outcome)
                return outcome
            except Exception as exc:  # grading this one failed: report it, keep the class going
                return Outcome(student, problems=[f"grading failed: {type(exc).__name__}: {exc}"])
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=summary.workers) as pool, \
                tqdm(total=len(found), desc="grading", unit="submission", disable=not progress) as bar:
            futures = [pool.submit(one, s, f) for s, f in found.items()]
            for future in as_completed(futures):
                summary.outcomes.append(future.result())
                bar.update()
    summary.seconds = time.perf_counter() - started
    return summary
