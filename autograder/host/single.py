"""Runs on the host: grade one notebook safely in a throwaway course (``python -m autograder grade``).

The same two steps as class grading, in this process: the pure grading task on a copy of the
assignment's generated course (made once and cached, :mod:`autograder.host.bundle`), then nbgrader
recording its result in the throwaway course.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.evidence.records import SAVED_RUN
from autograder.host.autograde import assignment_notebooks, outer_limit, settings_arguments
from autograder.host.bundle import course_bundle, unpack
from autograder.host.collect import Recorder
from autograder.host.course import DEFAULT_ASSIGNMENT, STUDENT, read_notebook, require_template, submit
from autograder.host.report import GradeReport
from autograder.host.sandbox import tools
from autograder.host.settings import SafeGrading, course_config, db_url, load_settings
from autograder.host.task import grade_submission, pack_submission


def grade_notebook(path: Path, assignment: str = DEFAULT_ASSIGNMENT,
                   settings: SafeGrading | None = None, course: Path | None = None) -> GradeReport:
    """Autograde one notebook (sandbox, limits, clean judge) in a throwaway copy of ``course``.

    ``course`` defaults to the one this installation carries; ``settings`` to its configuration.
    Raises GradingError only when grading itself cannot happen (no such file, not a notebook).
    """
    tools()
    path = Path(path).resolve()
    read_notebook(path)
    origin = Path(course).resolve() if course else require_template()
    settings = settings or load_settings(origin)
    bundle = course_bundle(origin, assignment)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(unpack(bundle), course)
        handed_in = submit(course, assignment, STUDENT, path)
        saved = path.parent / SAVED_RUN  # exercise 10's saved run, handed in beside the notebook
        if saved.is_file() and not saved.is_symlink():  # a link's target is not the student's to hand in
            shutil.copyfile(saved, handed_in.parent / SAVED_RUN)
        url = db_url(course)
        notebooks = assignment_notebooks(url, assignment)
        recorder = Recorder(course, course_config(course), url, assignment, notebooks)
        submission = pack_submission(recorder.folder(STUDENT), STUDENT, assignment, recorder.ignore)
        result = grade_submission(bundle, submission, settings_arguments(settings), outer_limit(settings))
        outcome = recorder.record(result)
    return outcome.report
