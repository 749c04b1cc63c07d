"""Runs on the host: grade a whole class, every collected submission, several at a time.

Each submission is graded by nbgrader itself (``nbgrader autograde --student``, made safe by
the course's preprocessors) in its own process, so a submission that hangs or crashes its
grader never stops the class; the gradebook (SQLite, PostgreSQL, any database nbgrader's
``db_url`` names) and ``autograded/`` are written by nbgrader as the Formgrader's button
would.  Grading again gives the same results.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm
from traitlets.config import Config

from autograder.host.autograde import autograde_student
from autograder.host.course import GradingError, submissions
from autograder.host.report import ClassSummary, Outcome
from autograder.host.sandbox import tools
from autograder.host.settings import SafeGrading, course_config, db_url, load_settings


def grade_all(course: Path, assignment: str, settings: SafeGrading | None = None,
              progress: bool = True, overrides: Config | None = None) -> ClassSummary:
    """Grade every submission of ``assignment`` in ``course``; one failure never stops the rest.

    ``settings`` and the gradebook default to nbgrader's configuration of the course
    (:func:`autograder.host.settings.course_config`), with ``overrides`` (the command line) last.
    """
    tools()  # refuse to run student code without the sandbox
    course = course.resolve()
    config = course_config(course, overrides)
    settings = settings or load_settings(course, overrides)
    url = db_url(course, config)
    found = submissions(course, assignment)
    if not found:
        raise GradingError(f"no submissions for {assignment!r} under {course / 'submitted'}")
    summary = ClassSummary(workers=settings.worker_count)
    started = time.perf_counter()

    def one(student: str) -> Outcome:
        try:
            return autograde_student(course, url, assignment, student, settings)
        except Exception as exc:  # grading this one failed: report it, keep the class going
            return Outcome(student, problems=[f"grading failed: {type(exc).__name__}: {exc}"])

    with ThreadPoolExecutor(max_workers=summary.workers) as pool, \
            tqdm(total=len(found), desc="grading", unit="submission", disable=not progress) as bar:
        for future in as_completed([pool.submit(one, student) for student in found]):
            summary.outcomes.append(future.result())
            bar.update()
    summary.seconds = time.perf_counter() - started
    return summary
