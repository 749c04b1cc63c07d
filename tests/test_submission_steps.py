"""The host's steps around a submission, on in-memory notebooks: structure, cleaning, finding, notes."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from autograder.host.report import CellGrade
from autograder.host.settings import SafeGrading
from autograder.host.submission import (
    MAX_NOTEBOOK_BYTES,
    Prepared,
    annotate,
    clean_for_grading,
    find_submitted_notebook,
    kernel_events,
    structure_notes,
    tampering_note,
    ungraded,
)
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK


@pytest.fixture(scope="module")
def release() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE_NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def cells(release) -> list[dict]:
    """The autograded grade cells as the gradebook lists them: id, points, source, in order."""
    return [{"grade_id": c.metadata.nbgrader["grade_id"], "max_points": c.metadata.nbgrader["points"],
             "source": c.source} for c in release.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.fixture
def nb(release) -> nbformat.NotebookNode:
    """A fresh copy of the released notebook, as a student would submit it untouched."""
    return copy.deepcopy(release)


def _index(nb, grade_id: str) -> int:
    """Where the cell with ``grade_id`` is in ``nb``."""
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# ------------------------------------------------------------------ structure_notes


def test_the_untouched_release_has_no_structure_notes(nb, cells):
    assert cells
    assert structure_notes(nb, cells) == []


def test_a_deleted_grade_cell_is_named_as_missing(nb, cells):
    del nb.cells[_index(nb, "scaling")]
    assert structure_notes(nb, cells) == ["1 grade cell(s) missing from the submission (scaling)"]


def test_many_missing_grade_cells_name_the_first_four(nb, cells):
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    ids = ", ".join(c["grade_id"] for c in cells[:4])
    assert structure_notes(nb, cells) == [
        f"{len(cells)} grade cell(s) missing from the submission ({ids}, ...)"]


def test_a_duplicated_grade_cell_is_noted_and_the_first_copy_graded(nb, cells):
    nb.cells.append(copy.deepcopy(nb.cells[_index(nb, "architecture")]))
    assert structure_notes(nb, cells) == ["duplicated cells (architecture): the first copy is graded"]


def test_grade_cells_moved_out_of_order_are_noted(nb, cells):
    i, j = _index(nb, "scaling"), _index(nb, "architecture")
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]
    assert structure_notes(nb, cells) == ["grade cells were moved out of order"]


def test_a_grade_cell_changed_to_markdown_is_noted(nb, cells):
    cell = nb.cells[_index(nb, "batching")]
    nb.cells[_index(nb, "batching")] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
    assert structure_notes(nb, cells) == ["grade cells changed to markdown (batching)"]


# ------------------------------------------------------------------ clean_for_grading


def test_cleaning_drops_every_output_and_execution_count(nb):
    cell = nb.cells[_index(nb, "scaling")]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="scaling: 2 / 2 points\n")]
    cell.execution_count = 7
    assert clean_for_grading(nb) is None
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId")
def test_cleaning_demotes_a_duplicate_grade_cell_to_plain_code(nb):
    first = _index(nb, "architecture")
    nb.cells.append(copy.deepcopy(nb.cells[first]))
    clean_for_grading(nb)
    assert nb.cells[first].metadata.nbgrader["grade_id"] == "architecture"
    assert "nbgrader" not in nb.cells[-1].metadata
    assert nb.cells[-1].source == nb.cells[first].source  # the code itself stays and still runs


def test_a_notebook_over_5_mb_of_code_is_refused(nb):
    nb.cells.append(nbformat.v4.new_code_cell("# " + "x" * (6 * 2**20)))
    assert clean_for_grading(nb) == "the notebook's code and text are 6 MB, over the 5 MB limit"


def test_huge_outputs_do_not_count_towards_the_limit_because_they_are_dropped(nb):
    cell = nb.cells[_index(nb, "scaling")]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (2 * MAX_NOTEBOOK_BYTES))]
    assert clean_for_grading(nb) is None


# ------------------------------------------------------------------ find_submitted_notebook


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "submitted" / "student" / ASSIGNMENT
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text("{}")
    return folder


def test_the_notebook_under_its_own_name_is_found_without_a_note(tmp_path):
    folder = _folder(tmp_path, f"{ASSIGNMENT}.ipynb", "notes.ipynb")
    assert find_submitted_notebook(folder, ASSIGNMENT) == (folder / f"{ASSIGNMENT}.ipynb", None)


def test_a_single_renamed_notebook_is_graded_with_a_note(tmp_path):
    folder = _folder(tmp_path, "mnist_batch_size (1).ipynb", "data.csv")
    found, note = find_submitted_notebook(folder, ASSIGNMENT)
    assert found == folder / "mnist_batch_size (1).ipynb"
    assert note == f"the notebook was renamed to mnist_batch_size (1).ipynb; graded it as {ASSIGNMENT}.ipynb"


def test_several_other_notebooks_are_not_guessed_between(tmp_path):
    folder = _folder(tmp_path, "a.ipynb", "b.ipynb")
    assert find_submitted_notebook(folder, ASSIGNMENT) == (
        None, f"no {ASSIGNMENT}.ipynb, and 2 other notebooks: cannot tell which to grade")


@pytest.mark.parametrize("names", [(), ("answers.py",)])
def test_no_notebook_at_all_is_named(tmp_path, names):
    folder = _folder(tmp_path, *names)
    assert find_submitted_notebook(folder, ASSIGNMENT) == (
        None, f"no notebook submitted (expected {ASSIGNMENT}.ipynb)")
    assert find_submitted_notebook(tmp_path / "absent", ASSIGNMENT)[0] is None


# ------------------------------------------------------------------ notes after the run


def test_points_claimed_in_the_kernel_above_the_judges_are_noted_as_tampering():
    notes = tampering_note({"scaling": 2.0, "architecture": 3.0, "batching": 1.0},
                           {"scaling": 0.0, "architecture": 3.0, "batching": 1.0})
    assert notes == ["inside the notebook, scaling reported 2 points, but re-checking the evidence in a "
                     "clean process gives 0: the checks or their output were tampered with, or the "
                     "evidence is missing"]


def test_no_tampering_note_when_the_kernel_claimed_no_more_than_the_judge_gives():
    assert tampering_note({"scaling": 2.0}, {"scaling": 2.0}) == []
    assert tampering_note({"scaling": 0.0}, {"scaling": 2.0}) == []  # e.g. a flaky kernel-side run
    assert tampering_note({}, {"scaling": 2.0}) == []


def test_interrupted_out_of_memory_and_exiting_cells_are_noted(nb):
    settings = SafeGrading(timeout=300, cell_timeout=150, memory_gb=4)
    for grade_id, ename in [("architecture", "KeyboardInterrupt"), ("scaling", "MemoryError"),
                            ("batching", "SystemExit")]:
        nb.cells[_index(nb, grade_id)].outputs = [
            nbformat.v4.new_output("error", ename=ename, evalue="", traceback=[])]
    assert kernel_events(nb, settings) == [
        "architecture ran over the 150 s time limit for one cell and was interrupted; the cells after "
        "it still ran",
        "scaling ran out of memory (the limit is 4 GiB)",
        "batching called sys.exit(); the kernel kept running",
    ]


def test_the_judges_verdicts_replace_the_grade_cells_outputs(nb):
    cell = nb.cells[_index(nb, "scaling")]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="scaling: 2 / 2 points (fake)\n")]
    annotate(nb, [CellGrade("scaling", 0.5, 2, "scaling: 0.5 / 2 points\n  ✘ pixels")])
    assert [o.output_type for o in cell.outputs] == ["stream", "execute_result"]
    assert cell.outputs[0].text == "scaling: 0.5 / 2 points\n  ✘ pixels\n"
    assert cell.outputs[1].data["text/plain"] == "0.5"


def test_an_ungradable_submission_gets_zero_in_every_cell_with_the_reason(cells, tmp_path):
    prepared = Prepared(tmp_path, ASSIGNMENT, cells, problems=["no notebook submitted"], gradable=False)
    report = ungraded(prepared)
    assert (report.score, report.max_score) == (0.0, sum(c["max_points"] for c in cells))
    assert {c.message for c in report.cells} == {"not graded: no notebook submitted"}
    assert [c.grade_id for c in report.cells] == [c["grade_id"] for c in cells]
