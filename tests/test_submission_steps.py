"""The host's steps around a submission, on notebooks and folders: structure, size, finding, notes."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from autograder.host.autograde import look_at_submission, settings_arguments
from autograder.host.settings import SafeGrading
from autograder.host.submission import (
    MAX_NOTEBOOK_BYTES,
    annotate_verdicts,
    kernel_events,
    structure_notes,
    tampering_note,
    too_big,
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


# ------------------------------------------------------------------ too_big


def test_a_notebook_over_5_mb_of_code_is_refused(nb):
    nb.cells.append(nbformat.v4.new_code_cell("# " + "x" * (6 * 2**20)))
    assert too_big(nb) == "the notebook's code and text are 6 MB, over the 5 MB limit"


def test_huge_outputs_do_not_count_towards_the_limit_because_nbgrader_drops_them(nb):
    cell = nb.cells[_index(nb, "scaling")]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (2 * MAX_NOTEBOOK_BYTES))]
    assert too_big(nb) is None
    assert len(cell.outputs) == 1  # looked at, not changed: nbgrader's ClearOutput drops them


# ------------------------------------------------------------------ look_at_submission


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "submitted" / "student" / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _notebook() -> str:
    return nbformat.writes(nbformat.v4.new_notebook())


def test_the_notebook_under_its_released_name_needs_no_note(tmp_path):
    folder = _folder(tmp_path, **{f"{ASSIGNMENT}.ipynb": _notebook(), "notes.ipynb": _notebook()})
    assert look_at_submission(folder, [ASSIGNMENT]) == ([], True)


def test_a_renamed_notebook_is_named_with_how_to_fix_it_and_not_graded(tmp_path):
    folder = _folder(tmp_path, **{"mnist_batch_size (1).ipynb": _notebook(), "data.csv": "1,2"})
    notes, gradable = look_at_submission(folder, [ASSIGNMENT])
    assert not gradable
    assert notes == [f"no {ASSIGNMENT}.ipynb submitted: it scores 0",
                     "found mnist_batch_size (1).ipynb instead: nbgrader grades notebooks by their "
                     "released names (rename it in submitted/ and grade again)"]


@pytest.mark.parametrize("files", [{}, {"answers.py": "x = 1"}])
def test_no_notebook_at_all_is_named(tmp_path, files):
    notes, gradable = look_at_submission(_folder(tmp_path, **files), [ASSIGNMENT])
    assert (notes, gradable) == ([f"no {ASSIGNMENT}.ipynb submitted: it scores 0"], False)
    assert look_at_submission(tmp_path / "absent", [ASSIGNMENT])[1] is False


def test_one_missing_notebook_of_two_is_named_and_the_other_still_graded(tmp_path):
    folder = _folder(tmp_path, **{"part1.ipynb": _notebook()})
    assert look_at_submission(folder, ["part1", "part2"]) == (["no part2.ipynb submitted: it scores 0"], True)


@pytest.mark.parametrize(("text", "reason"), [("{not json", "not a readable Jupyter notebook"),
                                              ("", "not a readable Jupyter notebook")])
def test_an_unreadable_notebook_is_named_and_not_handed_to_nbgrader(tmp_path, text, reason):
    notes, gradable = look_at_submission(_folder(tmp_path, **{f"{ASSIGNMENT}.ipynb": text}), [ASSIGNMENT])
    assert not gradable and reason in notes[0] and notes[0].startswith(f"{ASSIGNMENT}.ipynb")


def test_every_safe_grading_setting_reaches_nbgrader_on_its_command_line():
    args = settings_arguments(SafeGrading(timeout=60, cell_timeout=30, memory_gb=4, workers=2,
                                          kernel_threads=2, scheduler="tcp://10.0.0.5:8786"))
    assert {"--SafeGrading.timeout=60.0", "--SafeGrading.cell_timeout=30.0", "--SafeGrading.memory_gb=4.0",
            "--SafeGrading.workers=2", "--SafeGrading.judge_timeout=180.0",
            "--SafeGrading.tensorflow_log_level=2", "--SafeGrading.kernel_threads=2",
            "--SafeGrading.scheduler='tcp://10.0.0.5:8786'", "--SafeGrading.disk_mb=512.0",
            "--SafeGrading.cell_output_kb=1024.0", "--SafeGrading.output_mb=16.0"} == set(args)


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
    annotate_verdicts(nb, {"scaling": (0.5, "scaling: 0.5 / 2 points\n  ✘ pixels")})
    assert [o.output_type for o in cell.outputs] == ["stream", "execute_result"]
    assert cell.outputs[0].text == "scaling: 0.5 / 2 points\n  ✘ pixels\n"
    assert cell.outputs[1].data["text/plain"] == "0.5"
