"""An instructor's own plain nbgrader assignment, beside ours in this course, is graded as nbgrader grades it.

Its test cells are ordinary nbgrader tests (``assert``, ``numpy.testing``, a hidden test), not
calls of the evidence API: the sandboxed kernel's own output scores them, the clean judge is
not asked, and honest work is never called tampered with.  Graded the three ways an instructor
grades (``nbgrader autograde``, ``grade-all`` on Dask) and checked the way a student checks
(``nbgrader validate``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.host.cell_kinds import PLAIN_NOTE, is_judged
from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook, submit
from tests.plain_assignment import ASSIGNMENT, plain_notebook, write_source, wrong_answers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """This course with the instructor's plain assignment added and generated; the students' notebooks."""
    tmp = tmp_path_factory.mktemp("plain")
    course = tmp / "course"
    make_course(course)
    source = write_source(course)
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    work = {"correct": source, "wrong": wrong_answers(release, tmp / "wrong.ipynb"), "blank": release}
    for student, notebook in work.items():
        submit(course, ASSIGNMENT, student, notebook)
    return course, work


EXPECTED = {"correct": 5.0, "wrong": 0.0, "blank": 0.0}


def _totals(course: Path) -> dict[str, float]:
    url = f"sqlite:///{course / 'gradebook.db'}"
    return {s: sum(p for _, p, _ in scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, s)) for s in EXPECTED}


def test_plain_test_cells_are_not_judged_and_ours_are():
    assert not any(is_judged(c.source) for c in plain_notebook().cells)
    assert is_judged("grade(checks.check_architecture, globals(), out_of=3)")
    assert is_judged("import autograder.grading as g\ng.require(checks.check_choice, globals())")


def test_nbgrader_autograde_scores_it_as_nbgrader_would_and_notes_no_tampering(course):
    course, _ = course
    run_nbgrader(course, "autograde", ASSIGNMENT)
    assert _totals(course) == EXPECTED
    for student in EXPECTED:
        graded = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
        assert graded.metadata.get("autograder", {}).get("problems", []) == [], student
    run_nbgrader(course, "generate_feedback", ASSIGNMENT)
    feedback = (course / "feedback" / "correct" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "tampered" not in feedback and "scale([51])" not in feedback  # the hidden test stays hidden
    said = PLAIN_NOTE.split("; ")[1]  # each test cell says what scored it
    assert feedback.count(said[:-1]) == 2, said


def test_grade_all_on_dask_gives_the_same_scores(course):
    from traitlets.config import Config

    from autograder.host.classroom import grade_all
    from autograder.host.settings import load_settings

    course, _ = course
    summary = grade_all(course, ASSIGNMENT, load_settings(course, Config({"SafeGrading": {"workers": 2}})),
                        progress=False)
    assert {o.student: o.report.score for o in summary.outcomes} == EXPECTED
    assert not any(o.failed for o in summary.outcomes)
    assert all("tampered" not in " ".join(o.problems) for o in summary.outcomes)


def test_nbgrader_validate_agrees(course):
    course, work = course
    ok = run_nbgrader(course, "validate", str(work["correct"]))
    assert "Success! Your notebook passes all the tests." in ok.stdout, ok.stdout
    for student in ("wrong", "blank"):
        import subprocess
        import sys

        from autograder.host.course import nbgrader_env

        proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(work[student])], cwd=course,
                              env=nbgrader_env(), capture_output=True, text=True)
        assert "VALIDATION FAILED" in proc.stdout, (student, proc.stdout[-1500:])
