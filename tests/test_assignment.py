"""The assignment through nbgrader's real pipeline: full marks, zero, one mistake at a time, and
correct work in other styles.

All submissions are graded as one class by `grade_all` (sandboxed kernels, the clean judge,
two at a time); every test then reads its student's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.host.report import GradeReport
from autograder.tools.samples import MISTAKE_EDITS, STYLES, apply_edits, replace_cells
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, grading_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

TIMEOUT = 300  # seconds per submission: the lesson's own pipeline decodes every image again in every epoch
# Seconds per cell, what the hanging student waits: four times the longest cell (the lesson's
# own code, about 17 s on a busy 2-core machine).
CELL_TIMEOUT = 75
DATA_CELLS = ["validation_split_size", "scaling", "shapes_and_labels", "no_validation_leak", "batching"]
MODEL_CELLS = ["architecture", "compile_settings"]

# mistake (see autograder.samples) -> (cell that must lose points, words its message must hold,
#                                      cells that must keep every point)
EXPECTED: dict[str, tuple[str, list[str], list[str]]] = {
    "validation_20_percent": (
        "validation_split_size", ["num_validation_samples is", "expected 6,000"],
        ["scaling", "no_validation_leak", "batching", *MODEL_CELLS, "training_history",
         "test_evaluation", "batch_size_trend"]),
    "no_scaling": (
        "scaling", ["expected 0.0 to 1.0", "divide by 255"],
        ["validation_split_size", "batching", *MODEL_CELLS, "training_history", "test_evaluation"]),
    "width_64": (
        "architecture", ["widths are [64, 64]", "expected 50"],
        [*DATA_CELLS, "compile_settings", "training_history", "test_evaluation", "batch_size_trend"]),
    "sigmoid": (
        "architecture", ["activations are ['sigmoid', 'sigmoid']", "expected 'relu'"],
        [*DATA_CELLS, "compile_settings", "training_history", "test_evaluation", "batch_size_trend"]),
    "sgd": (
        "compile_settings", ["the optimizer is SGD", "expected 'adam'"],
        [*DATA_CELLS, "architecture", "training_history", "test_evaluation", "batch_size_trend"]),
    "categorical_crossentropy": (
        "compile_settings", ["expected 'sparse_categorical_crossentropy'", "one-hot"],
        [*DATA_CELLS, "architecture", "updates_per_epoch"]),
    "logits_without_softmax": (
        "architecture", ["logits", "expected activation='softmax'"],
        [*DATA_CELLS, "compile_settings", "training_history", "test_evaluation"]),
    "leaky_split": (
        "no_validation_leak", ["also appear in the training data", "reshuffle_each_iteration=False"],
        ["validation_split_size", "scaling", "batching", *MODEL_CELLS, "updates_per_epoch"]),
    "exercise_batch_left_at_100": (
        "exercise6_batch_size", ["batch size 100", "asks for batch size 10,000"],
        [*DATA_CELLS, *MODEL_CELLS, "training_history", "exercise7_batch_size"]),
    "wrong_updates_per_epoch": (
        "updates_per_epoch", ["updates_per_epoch(7) returned 7714", "expected 7715"],
        [*DATA_CELLS, *MODEL_CELLS, "training_history", "batch_size_trend"]),
}


@dataclass
class GradedClass:
    """The graded class's course directory and each student's report."""

    course: Path
    reports: dict[str, GradeReport]


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> GradedClass:
    """One class: the solution, the solution then a hang, the blank release, each mistake and each
    other style (the lesson's own code among them); graded once."""
    from autograder.host.classroom import grade_all
    from autograder.host.course import make_course, submit

    course = tmp_path_factory.mktemp("class") / "course"
    make_course(course)
    work = tmp_path_factory.mktemp("submissions")
    students = {"solution": SOURCE_NOTEBOOK, "blank": RELEASE_NOTEBOOK}
    for name in EXPECTED:
        students[name] = apply_edits(SOURCE_NOTEBOOK, MISTAKE_EDITS[name], work / f"{name}.ipynb")
    hanging = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    hanging.cells.append(nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    nbformat.write(hanging, work / "hang.ipynb")
    students["solution_then_hang"] = work / "hang.ipynb"
    for name, cells in STYLES.items():
        students[name] = replace_cells(SOURCE_NOTEBOOK, cells, work / f"{name}.ipynb")
    assert len(students) == len(EXPECTED) + len(STYLES) + 3, "a style named like another student"
    for student, path in students.items():
        submit(course, ASSIGNMENT, student, Path(path))
    settings = grading_settings(course, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT, workers=2)
    summary = grade_all(course, ASSIGNMENT, settings, progress=False)
    print("\n".join(summary.lines()))
    return GradedClass(course, {o.student: o.report for o in summary.outcomes})


@pytest.fixture
def graded(graded_class: GradedClass) -> dict[str, GradeReport]:
    """student -> their report."""
    return graded_class.reports


def _cells(report) -> dict:
    return {c.grade_id: c for c in report.cells}


@pytest.mark.timeout(1800)
def test_solution_gets_every_autograded_point(graded):
    """The source notebook with its solutions earns full autograded marks."""
    report = graded["solution"]
    lost = {c.grade_id: c.message for c in report.cells if c.points < c.max_points}
    assert lost == {}
    assert report.max_score == 27 and report.score == 27


def test_blank_release_gets_zero_and_says_what_is_missing(graded):
    """The unchanged student notebook scores 0, every cell still graded with a reason."""
    report = graded["blank"]
    assert report.score == 0 and report.max_score == 27
    assert len(report.cells) == len(graded["solution"].cells)
    split = _cells(report)["validation_split_size"].message
    assert "not defined" in split and "Run all cells above" in split


def test_grading_the_same_work_twice_gives_identical_results(graded):
    """Seeded training and deterministic ops: the same code (solution_then_hang only adds a last
    cell), graded in two kernels, gets the same points and accuracies in every cell."""
    first, second = graded["solution"], graded["solution_then_hang"]
    assert [(c.grade_id, c.points) for c in first.cells] == \
        [(c.grade_id, c.points) for c in second.cells]

    def accuracy_lines(report):
        return [ln for c in report.cells for ln in c.message.splitlines() if "accuracy" in ln]

    assert accuracy_lines(first) == accuracy_lines(second)


@pytest.mark.parametrize("mistake", list(EXPECTED))
def test_one_typical_mistake_loses_points_only_where_it_belongs(graded, mistake):
    """Each mistake costs points in its own grade cell, says what was expected, keeps the rest."""
    cell, words, keeps = EXPECTED[mistake]
    cells = _cells(graded[mistake])
    assert cells[cell].points < cells[cell].max_points, cells[cell].message
    for word in words:
        assert word in cells[cell].message, cells[cell].message
    for kept in keeps:
        assert cells[kept].points == cells[kept].max_points, (kept, cells[kept].message)


def test_every_sample_mistake_has_an_expectation():
    assert set(EXPECTED) == set(MISTAKE_EDITS)


def test_real_work_before_a_hang_still_earns_its_points(graded):
    """A complete solution that then loops forever keeps every point, and is told why it stopped."""
    report = graded["solution_then_hang"]
    assert report.score == 27
    assert "time limit" in report.cells[0].message


def test_scores_are_recorded_in_the_course_gradebook(graded_class: GradedClass):
    """grade_all wrote each student's autograded score into nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    graded = graded_class.reports
    with Gradebook(f"sqlite:///{graded_class.course / 'gradebook.db'}") as gb:
        for student in ("solution", "blank", "width_64"):
            assert gb.find_submission(ASSIGNMENT, student).code_score == graded[student].score


def test_every_cell_scores_whole_quarter_points(graded):
    """Partial credit an instructor can read: 0, 0.25, 0.5, ... never 2.1818/3."""
    odd = {(student, c.grade_id): c.points for student, report in graded.items() for c in report.cells
           if (c.points * 4) % 1}
    assert odd == {}


@pytest.mark.parametrize("mistake", ["width_64", "sigmoid", "sgd", "validation_20_percent", "no_scaling"])
def test_a_typical_mistake_costs_at_least_a_quarter_of_its_cell(graded, mistake):
    cell = _cells(graded[mistake])[EXPECTED[mistake][0]]
    assert cell.max_points - cell.points >= cell.max_points / 4, cell.message


@pytest.fixture
def styled(graded: dict[str, GradeReport]) -> dict[str, GradeReport]:
    """Correct work in other styles, and the lesson's own code: their reports (graded with the class)."""
    return {name: graded[name] for name in STYLES}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("style", [s for s in STYLES if s != "lesson_as_it_stands"])
def test_correct_work_in_another_style_keeps_every_point(styled, style):
    lost = {c.grade_id: c.message for c in styled[style].cells if c.points < c.max_points}
    assert lost == {}


def test_the_lessons_own_code_loses_only_the_leak(styled):
    report = styled["lesson_as_it_stands"]
    lost = {c.grade_id: c.points for c in report.cells if c.points < c.max_points}
    assert lost == {"no_validation_leak": 0.0}, {c.grade_id: c.message for c in report.cells
                                                 if c.points < c.max_points}
    assert report.score == 25
