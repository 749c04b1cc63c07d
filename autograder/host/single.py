"""Runs on the host: grade one notebook safely in a throwaway course (``python -m autograder grade``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.host.course import DEFAULT_ASSIGNMENT, ROOT, STUDENT, make_course, read_notebook
from autograder.host.report import GradeReport
from autograder.host.settings import SafeGrading, load_settings
from autograder.host.submission import grade_submission


def grade_notebook(path: Path, assignment: str = DEFAULT_ASSIGNMENT,
                   settings: SafeGrading | None = None) -> GradeReport:
    """Autograde one notebook (sandbox, limits, clean judge) in a throwaway copy of this course.

    ``settings`` default to this course's configuration.  Raises GradingError only when grading
    itself cannot happen (no such file, not a notebook).
    """
    path = Path(path).resolve()
    read_notebook(path)
    settings = settings or load_settings(ROOT)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        template = Path(tmp) / "template"
        make_course(template, assignment)
        submitted = Path(tmp) / "submitted"
        submitted.mkdir()
        shutil.copyfile(path, submitted / path.name)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        outcome = grade_submission(template, assignment, STUDENT, submitted, scratch, settings)
    return outcome.report
