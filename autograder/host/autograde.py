"""Runs on the host and on grading workers: nbgrader's autograde of one submission, and what it left.

nbgrader itself grades, with the course's configuration (whose preprocessors sandbox the kernel
and take the scores from the clean judge, :mod:`autograder.host.preprocessors`), so the gradebook
and ``autograded/`` hold exactly what the Formgrader's button would leave.  Around it, what a
class run needs: a look at the submitted folder first (missing, renamed or unreadable notebooks,
which nbgrader cannot grade), zeros with the reason where nbgrader cannot grade, and an
:class:`~autograder.host.report.Outcome` read back from the gradebook and the graded notebooks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nbformat
from traitlets.config import Config

from autograder.host.report import CellGrade, GradeReport, Outcome
from autograder.host.settings import SafeGrading
from autograder.host.submission import METADATA

STARTUP_SECONDS = 120  # the kernel's start, the judge's and nbgrader's own work, beyond the limits


def assignment_notebooks(db_url: str, assignment: str) -> list[str]:
    """The notebook names of ``assignment`` in the gradebook, in nbgrader's order."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return [nb.name for nb in gb.find_assignment(assignment).notebooks]


def look_at_submission(folder: Path, notebooks: list[str]) -> tuple[list[str], bool]:
    """Notes on what nbgrader will not find in ``folder``, and whether nbgrader can grade it at all."""
    notes, readable = [], 0
    found = {p.stem for p in folder.glob("*.ipynb")} if folder.is_dir() else set()
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            notes.append(f"no {name}.ipynb submitted: it scores 0")
            continue
        try:
            nbformat.read(path, as_version=4)
            readable += 1
        except Exception as exc:  # invalid JSON, empty file, wrong structure
            first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            notes.append(f"{name}.ipynb is not a readable Jupyter notebook ({first})")
            return notes, False
    others = sorted(found - set(notebooks))
    if others and readable < len(notebooks):
        notes.append(f"found {', '.join(o + '.ipynb' for o in others[:3])} instead: nbgrader grades "
                     "notebooks by their released names (rename it in submitted/ and grade again)")
    return notes, readable > 0


def settings_arguments(settings: SafeGrading) -> list[str]:
    """``settings`` as nbgrader command-line arguments, so nbgrader's preprocessors use exactly them."""
    return [f"--SafeGrading.{name}={getattr(settings, name)!r}" for name in settings.trait_names()
            if settings.trait_metadata(name, "config")]


def outer_limit(settings: SafeGrading) -> float:
    """Seconds grading one submission may take in all before its worker gives up on it."""
    return settings.timeout + settings.judge_timeout + STARTUP_SECONDS


def autograde_here(config: Config, assignment: str, student: str) -> tuple[str | None, str]:
    """nbgrader's ``Autograde`` of one submission in this process: (why it failed or None, its log).

    Run as the Formgrader's ``NbGraderAPI.autograde`` runs it, with ``config`` (the course's
    configuration, whose ``CourseDirectory`` names the course and its gradebook).
    """
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log, temp_attrs

    coursedir = CourseDirectory(config=config)
    with temp_attrs(coursedir, assignment_id=assignment, student_id=student), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's update_or_create_submission trips autoflush warnings
        app = Autograde(coursedir=coursedir, config=config)
        app.force = app.create_student = True
        answer = capture_log(app)
    return nbgrader_failure("autograde", answer), answer.get("log", "")


def nbgrader_failure(step: str, answer: dict) -> str | None:
    """None when an nbgrader app's ``capture_log`` answer succeeded; else its last error line, said short."""
    if answer.get("success"):
        return None
    lines = (answer.get("error") or answer.get("log") or "?").strip().splitlines()
    errors = [line for line in lines if "Error" in line or "ERROR" in line] or lines
    return f"nbgrader {step} failed: {errors[-1].strip()[:300]}"


def record_zeros(db_url: str, assignment: str, student: str, submitted: Path) -> None:
    """Score every grade of the submission 0, autograded (as nbgrader does for a missing notebook)."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    stamp = submitted / "timestamp.txt"
    text = stamp.read_text().strip() if stamp.is_file() else ""
    timestamp = parse_utc(text) if text else None
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's update_or_create_submission trips autoflush warnings
        gb.update_or_create_student(student)
        extra = {"timestamp": timestamp} if timestamp else {}
        submission = gb.update_or_create_submission(assignment, student, **extra)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gb.db.commit()


def _messages_and_notes(path: Path) -> tuple[dict[str, str], list[str]]:
    """grade_id -> the verdict a graded notebook shows; the problems grading noted in it."""
    if not path.is_file():
        return {}, []
    nb = nbformat.read(path, as_version=4)
    messages = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            streams = [o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
            messages[meta["grade_id"]] = "".join(streams).strip()
    return messages, list(nb.metadata.get(METADATA, {}).get("problems", []))


def _scores(db_url: str, assignment: str, notebook: str, student: str) -> list[tuple[str, float, float]]:
    """The gradebook's scores of one submitted notebook; zeros if nbgrader never recorded it."""
    from nbgrader.api import MissingEntry

    from autograder.host.course import scores_from_gradebook, trusted_grade_cells

    try:
        return scores_from_gradebook(db_url, assignment, notebook, student)
    except MissingEntry:
        cells = trusted_grade_cells(db_url, assignment, notebook)
        return [(c["grade_id"], 0.0, float(c["max_points"])) for c in cells]


def read_outcome(course: Path, db_url: str, assignment: str, student: str, notebooks: list[str],
                 notes: list[str]) -> Outcome:
    """What the gradebook and the graded notebooks say about one student's submission."""
    outcome = Outcome(student, problems=list(notes))
    cells = []
    for name in notebooks:
        graded = course / "autograded" / student / assignment / f"{name}.ipynb"
        messages, problems = _messages_and_notes(graded)
        outcome.problems += [p for p in problems if p not in outcome.problems]
        for gid, points, max_points in _scores(db_url, assignment, name, student):
            label = gid if len(notebooks) == 1 else f"{name}:{gid}"
            message = messages.get(gid) or "not graded: " + "; ".join(
                outcome.problems or [f"{gid} is not in the graded notebook"])
            cells.append(CellGrade(label, points, max_points, message))
        if graded.is_file():
            outcome.autograded_dir = graded.parent
    outcome.report = GradeReport(sum(c.points for c in cells), sum(c.max_points for c in cells), cells)
    return outcome
