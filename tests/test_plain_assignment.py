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

from autograder.host.cell_kinds import is_judged
from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook, submit

pytestmark = pytest.mark.slow

ASSIGNMENT = "add_numbers"


def _cell(source: str, grade_id: str, *, solution: bool = False, points: float = 0) -> nbformat.NotebookNode:
    meta = {"grade": bool(points), "solution": solution, "locked": not solution, "grade_id": grade_id,
            "schema_version": 3, **({"points": points} if points else {})}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def plain_notebook() -> nbformat.NotebookNode:
    """An ordinary nbgrader source notebook: two solutions, two test cells (5 points, one hidden test)."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Write `add` and `scale`."),
        _cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", "add",
              solution=True),
        _cell("assert add(1, 2) == 3\nassert add(-1, 1) == 0", "add_tests", points=2),
        _cell("import numpy as np\n\ndef scale(x):\n    ### BEGIN SOLUTION\n"
              "    return np.asarray(x) / 255.0\n    ### END SOLUTION", "scale", solution=True),
        _cell("np.testing.assert_allclose(scale([0, 255]), [0, 1])\n### BEGIN HIDDEN TESTS\n"
              "np.testing.assert_allclose(scale([51]), [0.2])\n### END HIDDEN TESTS",
              "scale_tests", points=3),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """This course with the instructor's plain assignment added and generated; the students' notebooks."""
    tmp = tmp_path_factory.mktemp("plain")
    course = tmp / "course"
    make_course(course)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(plain_notebook(), course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    wrong = nbformat.read(release, as_version=4)
    for cell in wrong.cells:
        cell.source = cell.source.replace("raise NotImplementedError()", "return a - b" if "def add" in
                                          cell.source else "return x")
    nbformat.write(wrong, tmp / "wrong.ipynb")
    work = {"correct": course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", "wrong": tmp / "wrong.ipynb",
            "blank": release}
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
