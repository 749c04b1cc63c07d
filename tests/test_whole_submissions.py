"""Whole submissions: every notebook of an assignment is graded, with the files handed in beside it.

A small two-notebook assignment made here (no training): part 1 reads a number from a data file
the student hands in beside the notebooks, part 2 defines ``updates_per_epoch``.  Graded safely
with ``grade_all``: a complete submission keeps every point, a missing notebook scores 0 in its
own cells with a note saying so, and a missing data file costs only the cell that reads it.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from tests.helpers import ROOT, grading_settings

pytestmark = [pytest.mark.slow]

ASSIGNMENT = "two_parts"
SETUP = "from autograder.grading import grade, require, var\nfrom autograder import checks"


def _cell(kind: str, source: str, grade_id: str, points: float = 0) -> nbformat.NotebookNode:
    meta = {"grade_id": grade_id, "schema_version": 3, "task": False, "solution": kind == "solution",
            "grade": kind == "test", "locked": kind != "solution"}
    if kind == "test":
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


PART1 = [_cell("locked", SETUP, "setup1"),
         _cell("solution", "### BEGIN SOLUTION\nanswer = int(open('answer.txt').read())\n### END SOLUTION",
               "read_answer"),
         _cell("test", "grade(checks.check_value, globals(), out_of=1, answer=var('answer'), expected=42, "
                       "name='answer', why='answer.txt holds 42')", "answer_is_42", 1)]
PART2 = [_cell("locked", SETUP, "setup2"),
         _cell("solution", "def updates_per_epoch(batch_size, num_train=54_000):\n    ### BEGIN SOLUTION\n"
                           "    return -(-num_train // batch_size)\n    ### END SOLUTION", "updates"),
         _cell("test", "grade(checks.check_function_cases, globals(), out_of=2, name='updates_per_epoch',\n"
                       "      function=var('updates_per_epoch'), cases={1: 54_000, 100: 540, 10_000: 6})",
               "updates_checked", 2)]


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.host.classroom import grade_all
    from autograder.host.course import make_course

    root = tmp_path_factory.mktemp("whole")
    source_root = root / "instructor"
    (source_root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", source_root / "nbgrader_config.py")
    for name, cells in (("part1", PART1), ("part2", PART2)):
        nbformat.write(_notebook(cells), source_root / "source" / ASSIGNMENT / f"{name}.ipynb")
    course = root / "course"
    make_course(course, ASSIGNMENT, source_root=source_root)
    release = course / "release" / ASSIGNMENT
    solutions = source_root / "source" / ASSIGNMENT
    handed_in = {"complete": (["part1", "part2"], True), "without_part2": (["part1"], True),
                 "without_the_data_file": (["part1", "part2"], False)}
    for student, (parts, with_data) in handed_in.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for part in parts:
            shutil.copyfile(solutions / f"{part}.ipynb", folder / f"{part}.ipynb")
        if with_data:
            (folder / "answer.txt").write_text("42\n")
    assert (release / "part1.ipynb").is_file() and (release / "part2.ipynb").is_file()
    summary = grade_all(course, ASSIGNMENT, grading_settings(course, workers=2), progress=False)
    print("\n".join(summary.lines()))
    return course, {o.student: o for o in summary.outcomes}


def _points(outcome) -> dict[str, float]:
    return {c.grade_id: c.points for c in outcome.report.cells}


def test_every_notebook_is_graded_and_the_handed_in_file_is_there(graded):
    course, outcomes = graded
    assert _points(outcomes["complete"]) == {"part1:answer_is_42": 1, "part2:updates_checked": 2}
    assert outcomes["complete"].problems == []
    for part in ("part1", "part2"):
        assert (course / "autograded" / "complete" / ASSIGNMENT / f"{part}.ipynb").is_file()
    assert (course / "autograded" / "complete" / ASSIGNMENT / "answer.txt").read_text() == "42\n"


def test_a_missing_notebook_scores_zero_in_its_cells_only_with_a_note(graded):
    _, outcomes = graded
    outcome = outcomes["without_part2"]
    assert _points(outcome) == {"part1:answer_is_42": 1, "part2:updates_checked": 0}
    assert "no part2.ipynb submitted: it scores 0" in outcome.problems


def test_a_missing_data_file_costs_only_the_cell_that_reads_it(graded):
    _, outcomes = graded
    assert _points(outcomes["without_the_data_file"]) == {"part1:answer_is_42": 0, "part2:updates_checked": 2}


def test_the_gradebook_needs_no_hand_grading_for_any_of_them(graded):
    from nbgrader.api import Gradebook

    from autograder.host.settings import db_url

    course, _ = graded
    with Gradebook(db_url(course)) as gb:
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            assert not submission.needs_manual_grade, submission.student_id
