"""Runs on the host: grade one notebook safely in a throwaway course (``python -m autograder grade``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder.host.autograde import autograde_student
from autograder.host.course import DEFAULT_ASSIGNMENT, ROOT, STUDENT, make_course, read_notebook, submit
from autograder.host.report import GradeReport
from autograder.host.sandbox import tools
from autograder.host.settings import SafeGrading, db_url, load_settings


def grade_notebook(path: Path, assignment: str = DEFAULT_ASSIGNMENT,
                   settings: SafeGrading | None = None) -> GradeReport:
    """Autograde one notebook (sandbox, limits, clean judge) in a throwaway copy of this course.

    ``settings`` default to this course's configuration.  Raises GradingError only when grading
    itself cannot happen (no such file, not a notebook).
    """
    tools()
    path = Path(path).resolve()
    read_notebook(path)
    settings = settings or load_settings(ROOT)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        course = Path(tmp) / "course"
        make_course(course, assignment)
        submit(course, assignment, STUDENT, path)
        outcome = autograde_student(course, db_url(course), assignment, STUDENT, settings)
    return outcome.report
