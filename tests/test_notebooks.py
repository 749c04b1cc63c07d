"""The committed notebooks: release/ is what nbgrader generates from source/, metadata is sound."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, ROOT, SOURCE_NOTEBOOK


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _normalised(path) -> list[dict]:
    return [{"type": c.cell_type, "source": c.source, "nbgrader": c.metadata.get("nbgrader")}
            for c in _cells(path)]


@pytest.fixture
def generated_release(tmp_path: Path) -> Path:
    """The notebook ``nbgrader generate_assignment`` makes from source/ now, in a scratch course."""
    # --no-db: the same release notebook, without creating a gradebook (alembic), in half the time.
    from autograder.host.course import run_nbgrader

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE_NOTEBOOK.parent, course / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force", "--no-db")
    return course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def test_release_is_exactly_what_generate_assignment_makes_from_source(generated_release):
    """Fails when source/ changed and release/ was not regenerated (never edit release/ by hand)."""
    generated = generated_release
    assert _normalised(generated) == _normalised(RELEASE_NOTEBOOK), (
        "release/ is stale: run `nbgrader generate_assignment mnist_batch_size --force` "
        "in the course root and commit release/")


@pytest.mark.parametrize("path", [SOURCE_NOTEBOOK, RELEASE_NOTEBOOK], ids=["source", "release"])
def test_notebooks_have_no_committed_outputs(path):
    for cell in _cells(path):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_grade_cells_have_unique_readable_ids_and_points_matching_out_of():
    """grade_ids like `validation_split_size`; each grade() call's out_of equals the cell's points."""
    ids = []
    for cell in _cells(SOURCE_NOTEBOOK):
        meta = cell.metadata.get("nbgrader")
        assert meta is not None, f"cell without nbgrader metadata: {cell.source[:60]!r}"
        assert re.fullmatch(r"[a-z][a-z0-9_]+", meta["grade_id"])
        ids.append(meta["grade_id"])
        if meta.get("grade") and cell.cell_type == "code":
            assert meta["locked"] and not meta["solution"]
            out_of = re.findall(r"\bgrade\(.*?out_of=(\d+(?:\.\d+)?)", cell.source, flags=re.S)
            assert out_of and all(float(x) == meta["points"] for x in out_of), meta["grade_id"]
    assert len(ids) == len(set(ids))


def test_release_hides_solutions_hidden_tests_and_model_answers():
    release = json.dumps([c.source for c in _cells(RELEASE_NOTEBOOK)])
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "Model answer", "expected=100",
                   "reshuffle_each_iteration=False)", "math.ceil(num_train"):
        assert secret not in release
    assert release.count("raise NotImplementedError()") >= 9
    assert release.count("YOUR ANSWER HERE") == 2


def test_provided_code_cells_are_locked_and_student_cells_are_not():
    for cell in _cells(SOURCE_NOTEBOOK):
        meta = cell.metadata["nbgrader"]
        if cell.cell_type == "code" and meta["grade_id"] in {"setup", "load_mnist", "train_model",
                                                              "plot_runs"}:
            assert meta["locked"] and not meta["solution"]
        if "### BEGIN SOLUTION" in cell.source:
            assert meta["solution"] and not meta["locked"]
