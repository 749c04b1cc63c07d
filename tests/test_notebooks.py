"""The committed notebooks of both assignments: release/ is what nbgrader generates from source/,
metadata is sound, and the release gives nothing away."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ROOT

ASSIGNMENTS = ("mnist_batch_size", "mnist_hyperparameters")
SOURCES = {a: ROOT / "source" / a / f"{a}.ipynb" for a in ASSIGNMENTS}
RELEASES = {a: ROOT / "release" / a / f"{a}.ipynb" for a in ASSIGNMENTS}
# What each release must not show, how many stubs it has, and which code cells are given (locked).
SECRETS = {
    "mnist_batch_size": ("expected=100", "reshuffle_each_iteration=False)", "math.ceil(num_train"),
    "mnist_hyperparameters": ('expected="width_200"', 'expected="lr_0.0001"',
                              "reshuffle_each_iteration=False)", "train_model(hidden_layer_size=200)",
                              "Adam(learning_rate=learning_rate)"),
}
STUBS = {"mnist_batch_size": (9, 2), "mnist_hyperparameters": (13, 3)}  # code stubs (at least), answer stubs
GIVEN = {"mnist_batch_size": {"setup", "load_mnist", "train_model", "plot_runs"},
         "mnist_hyperparameters": {"setup", "load_mnist", "train_model", "plot_architectures",
                                   "plot_learning_rates", "ex10_run"}}


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _normalised(path) -> list[dict]:
    return [{"type": c.cell_type, "source": c.source, "nbgrader": c.metadata.get("nbgrader")}
            for c in _cells(path)]


@pytest.fixture(scope="module")
def generated_course(tmp_path_factory) -> Path:
    """A scratch course whose release/ is what ``nbgrader generate_assignment`` makes of source/ now."""
    # One nbgrader process for every assignment ("*"), and --no-db: the same release notebooks,
    # without starting nbgrader twice or creating a gradebook (alembic).
    from autograder.host.course import run_nbgrader

    course = tmp_path_factory.mktemp("generated") / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment in ASSIGNMENTS:
        shutil.copytree(SOURCES[assignment].parent, course / "source" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    run_nbgrader(course, "generate_assignment", "*", "--force", "--no-db")
    return course


@pytest.fixture(params=ASSIGNMENTS)
def generated_release(request, generated_course: Path) -> tuple[str, Path]:
    """(assignment, what ``nbgrader generate_assignment`` makes of its source/ now)."""
    assignment = request.param
    return assignment, generated_course / "release" / assignment / f"{assignment}.ipynb"


def test_release_is_exactly_what_generate_assignment_makes_from_source(generated_release):
    """Fails when source/ changed and release/ was not regenerated (never edit release/ by hand)."""
    assignment, generated = generated_release
    assert _normalised(generated) == _normalised(RELEASES[assignment]), (
        f"release/ is stale: run `nbgrader generate_assignment {assignment} --force` "
        "in the course root and commit release/")
    assert sorted(p.name for p in RELEASES[assignment].parent.iterdir()) == [RELEASES[assignment].name]


@pytest.mark.parametrize("path", [*SOURCES.values(), *RELEASES.values()],
                         ids=[f"{a}-{k}" for k in ("source", "release") for a in ASSIGNMENTS])
def test_notebooks_have_no_committed_outputs(path):
    for cell in _cells(path):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_cells_have_unique_readable_ids_and_points_matching_out_of(assignment):
    """grade_ids like `validation_split_size`; each grade() call's out_of equals the cell's points."""
    ids = []
    for cell in _cells(SOURCES[assignment]):
        meta = cell.metadata.get("nbgrader")
        assert meta is not None, f"cell without nbgrader metadata: {cell.source[:60]!r}"
        assert re.fullmatch(r"[a-z][a-z0-9_]+", meta["grade_id"])
        ids.append(meta["grade_id"])
        if meta.get("grade") and cell.cell_type == "code":
            assert meta["locked"] and not meta["solution"]
            out_of = re.findall(r"\bgrade\(.*?out_of=(\d+(?:\.\d+)?)", cell.source, flags=re.S)
            assert out_of and all(float(x) == meta["points"] for x in out_of), meta["grade_id"]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_hidden_tests_and_model_answers(assignment):
    release = json.dumps([c.source for c in _cells(RELEASES[assignment])])
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "Model answer", *SECRETS[assignment]):
        assert secret not in release
    code_stubs, answer_stubs = STUBS[assignment]
    assert release.count("raise NotImplementedError()") >= code_stubs
    assert release.count("YOUR ANSWER HERE") == answer_stubs


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_provided_code_cells_are_locked_and_student_cells_are_not(assignment):
    given = set()
    for cell in _cells(SOURCES[assignment]):
        meta = cell.metadata["nbgrader"]
        if cell.cell_type == "code" and meta["grade_id"] in GIVEN[assignment]:
            assert meta["locked"] and not meta["solution"]
            given.add(meta["grade_id"])
        if "### BEGIN SOLUTION" in cell.source:
            assert meta["solution"] and not meta["locked"]
    assert given == GIVEN[assignment]
