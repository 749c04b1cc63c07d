"""The public API for judged checks, and a worked example graded both ways.

``tests/example_assignment/source/vectors/vectors.ipynb`` is an assignment written the way an
instructor writes one: a function (``add``), an array answer (``squares``) and a small Keras
model (``model``), each graded by a *judged* grade cell whose check is defined in the cell
itself, and one *plain* nbgrader test cell (``assert``, ``np.testing``, a hidden test).

The fast tests here check the evidence kinds such checks read (arrays, a function's results
on declared inputs) from the kernel's writer to the judge's reader, and the example's checks
run in-process by the judge.  The slow ones put the example in a course and grade it with
``nbgrader autograde`` (the course's safe pipeline): full marks, blank 0, wrong answers 0 in
their own cells only, and tampering inside the kernel gains nothing in the judged cells.  The
plain cell is not protected that way, and a test shows it: that is the documented difference.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.checks import CheckResult, RecordedError, probes
from autograder.evidence import read
from autograder.evidence import write as evidence
from autograder.evidence.read import load
from autograder.evidence.records import FunctionCalls, FunctionEvidence, MissingEvidence, call_key
from autograder.grading import grade, require, run_check, var
from autograder.host.cell_kinds import JUDGED_NOTE, PLAIN_NOTE, is_judged
from tests.helpers import ROOT

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")

ASSIGNMENT = "vectors"
SOURCE = ROOT / "tests" / "example_assignment" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
JUDGED = {"add_judged": 2.0, "squares_judged": 2.0, "model_judged": 3.0}
PLAIN = {"squares_plain": 1.0}
FULL = {**JUDGED, **PLAIN}


# --- arrays ----------------------------------------------------------------------------------


def test_arrays_come_back_as_plain_arrays_and_numbers_stay_numbers(evidence_dir):
    import tensorflow as tf

    values = {
        "squares": np.arange(10) ** 2,
        "mask": np.array([True, False, True]),
        "grid": np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4),
        "listed": [0.5, 1.5, 2.5],
        "pair": (3, 4),
        "tensor": tf.range(5),
        "zero_d": np.array(2.5),
        "scalar": np.float64(0.25),
        "count": 7,
    }
    for name, value in values.items():
        evidence.write(name, value)
    loaded = load(evidence_dir)
    for name in ("squares", "mask", "grid", "listed", "pair", "tensor"):
        assert isinstance(loaded[name], np.ndarray), name
        assert (evidence_dir / f"{name}.array.npy").is_file()
        np.testing.assert_array_equal(loaded[name], np.asarray(values[name]))
    assert loaded["squares"].dtype == values["squares"].dtype and loaded["mask"].dtype == bool
    assert loaded["grid"].shape == (3, 4) and loaded["grid"].dtype == np.float32
    assert loaded["zero_d"] == 2.5 and loaded["scalar"] == 0.25 and loaded["count"] == 7
    assert not isinstance(loaded["zero_d"], np.ndarray)


def test_arrays_are_saved_with_numpy_bound_before_student_code(evidence_dir):
    """A student who replaces ``np.save`` or ``np.array`` changes nothing the judge gets."""
    zeros = np.zeros(10)
    with pytest.MonkeyPatch.context() as student:
        student.setattr(np, "save", lambda *args, **kwargs: None)
        student.setattr(np, "array", lambda *args, **kwargs: zeros)
        evidence.write("squares", [0, 1, 4, 9])
    np.testing.assert_array_equal(load(evidence_dir)["squares"], [0, 1, 4, 9])


def test_an_array_of_python_objects_is_refused_unpickled(evidence_dir):
    np.save(evidence_dir / "squares.array.npy", np.array([object()], dtype=object), allow_pickle=True)
    np.save(evidence_dir / "words.array.npy", np.array(["a", "b"]))
    loaded = load(evidence_dir)
    assert isinstance(loaded["squares"], MissingEvidence)
    assert "squares.array.npy holds Python objects, which are never unpickled" in loaded["squares"].reason
    assert isinstance(loaded["words"], MissingEvidence) and "not numbers" in loaded["words"].reason


def test_an_array_file_over_its_size_limit_or_its_contents_is_refused(evidence_dir):
    with open(evidence_dir / "huge.array.npy", "wb") as f:
        f.truncate(read.MAX_FILE_BYTES + read.MiB)  # sparse: costs nothing unless read
    np.save(evidence_dir / "short.array.npy", np.arange(1000))
    data = (evidence_dir / "short.array.npy").read_bytes()
    (evidence_dir / "short.array.npy").write_bytes(data[:200])  # the header claims 8,000 bytes
    (evidence_dir / "link.array.npy").symlink_to(evidence_dir / "short.array.npy")
    loaded = load(evidence_dir)
    assert "huge.array.npy is 129 MiB, over the 128 MiB limit" in loaded["huge"].reason
    assert "short.array.npy declares an array of 7.812 KiB" in loaded["short"].reason
    assert "not a regular file (a symbolic link)" in loaded["link"].reason


# --- a function's results on declared inputs -------------------------------------------------


def test_probes_declares_argument_tuples_and_refuses_inputs_that_cannot_be_recorded():
    @probes(add=[(1, 2), (0.5, 0.25)], norm=[[3, 4], np.array([1.0, 0.0])])
    def check(add, norm):
        return CheckResult()

    assert check.__autograder_probes__["add"] == [(1, 2), (0.5, 0.25)]
    assert [len(args) for args in check.__autograder_probes__["norm"]] == [1, 1]
    assert call_key((1.0, np.int64(2))) == call_key((1, 2)) == "[1,2]"
    assert call_key((np.array([1, 2]),)) == "[[1,2]]"
    with pytest.raises(TypeError, match="a probe input is a number, a string, None, or a list"):
        probes(f=[(object(),)])


def _picky(a, b):
    """A student's function: numbers, arrays, an error on one input, something unrecordable on another."""
    if b == 0:
        raise ZeroDivisionError("b is zero")
    if a == "dict":
        return {"a": 1}
    if a == "custom":
        raise type("OwnError", (Exception,), {})("mine")
    if isinstance(a, list):
        return np.asarray(a) / b
    return a / b


@probes(divide=[(6, 3), (1, 0), ([2, 4], 2), ("dict", 1), ("custom", 1), (7, 2)])
def check_divide(divide):
    result = CheckResult()
    result.add(divide(6, 3) == 2, "6 / 3 is 2", "6 / 3 should be 2")
    result.add(np.array_equal(divide([2, 4], 2), [1, 2]), "arrays divide", "[2, 4] / 2 should be [1, 2]")
    try:
        divide(1, 0)
        raised = False
    except ZeroDivisionError:
        raised = True
    result.add(raised, "1 / 0 raises ZeroDivisionError", "1 / 0 should raise ZeroDivisionError")
    return result


def test_a_function_with_declared_inputs_comes_back_as_its_recorded_calls(evidence_dir, capsys):
    points = grade(check_divide, {"divide": _picky}, out_of=3)
    assert points == 3 and "divide: 3 / 3 points" in capsys.readouterr().out
    assert sorted(p.name for p in evidence_dir.iterdir()) == ["divide.calls.json", "divide.calls.npz"]
    divide = load(evidence_dir)["divide"]
    assert isinstance(divide, FunctionCalls)
    assert divide(6, 3) == 2 and divide(6.0, 3) == 2 and divide(7, 2) == 3.5
    got = divide([2, 4], 2)
    assert isinstance(got, np.ndarray) and got.tolist() == [1.0, 2.0]
    got[0] = 99  # a check that changes what it got changes nothing recorded
    assert divide([2, 4], 2).tolist() == [1.0, 2.0]
    with pytest.raises(ZeroDivisionError, match="b is zero"):
        divide(1, 0)
    with pytest.raises(RecordedError, match="OwnError: mine"):
        divide("custom", 1)
    with pytest.raises(ValueError, match="returned a dict, which is not recorded"):
        divide("dict", 1)
    with pytest.raises(ValueError, match=r"divide\(5, 1\) was not recorded"):
        divide(5, 1)
    with pytest.raises(TypeError, match="positional arguments only"):
        divide(a=6, b=3)
    assert run_check(check_divide, {"divide": divide}).score == 1


def test_a_renamed_function_is_recorded_under_its_notebook_name_and_require_saves_it_too(evidence_dir):
    require(check_divide, {"my_divide": _picky}, divide=var("my_divide"))
    assert sorted(p.name for p in evidence_dir.iterdir()) == ["my_divide.calls.json", "my_divide.calls.npz"]
    assert run_check(check_divide, load(evidence_dir), divide=var("my_divide")).score == 1


def test_the_student_function_gets_copies_and_is_called_once_per_input(evidence_dir):
    seen = []

    def normalize(v):
        seen.append(list(v))
        v[0] = 0  # changes its argument: the declared input stays as declared
        return [x / 5 for x in v]

    inputs = [[3, 4]]
    evidence.write_calls("normalize", normalize, [(v,) for v in inputs])
    evidence.write_calls("normalize", normalize, [([3, 4],), ([6, 8],)])  # a second check, one more input
    assert seen == [[3, 4], [6, 8]] and inputs == [[3, 4]]
    record = load(evidence_dir)["normalize"]
    assert record([3, 4]).tolist() == [0.0, 0.8] and record([6, 8]).tolist() == [0.0, 1.6]


def test_declared_calls_and_the_fixed_probe_inputs_live_side_by_side(evidence_dir):
    """A check without @probes still gets the fixed inputs 1..60,000 (as the MNIST assignments do)."""

    def double(x):
        return 2 * x

    evidence.write_calls("double", double, [(0.5,)])
    evidence.write("double", double)
    record = load(evidence_dir)["double"]
    assert isinstance(record, FunctionCalls) and isinstance(record.fallback, FunctionEvidence)
    assert record(0.5) == 1.0 and record(30_000) == 60_000
    with pytest.raises(ValueError, match="was not recorded"):
        record(0.25)


def test_a_forged_result_that_is_not_plain_is_refused(evidence_dir):
    (evidence_dir / "add.calls.json").write_text('{"results": {"[1,2]": {"value": {"x": 1}}}, "arrays": 0}')
    loaded = load(evidence_dir)
    assert isinstance(loaded["add"], MissingEvidence)
    assert "not a number, string or array" in loaded["add"].reason


# --- the worked example, judged in-process ---------------------------------------------------


def _cells(notebook: nbformat.NotebookNode) -> list[dict]:
    """The autograded grade cells as the gradebook holds them: {grade_id, source, max_points}."""
    return [{"grade_id": c.metadata["nbgrader"]["grade_id"], "source": c.source,
             "max_points": c.metadata["nbgrader"]["points"]}
            for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def test_the_example_is_a_valid_nbgrader_source_notebook_with_both_kinds_of_grade_cell():
    source = nbformat.read(SOURCE, as_version=4)
    nbformat.validate(source)
    meta = [c.metadata["nbgrader"] for c in source.cells if c.cell_type == "code"]
    assert {m["grade_id"] for m in meta if m["solution"]} == {"add", "squares", "model"}
    assert all(m["locked"] for m in meta if m["grade"])
    assert not any(m["locked"] for m in meta if m["solution"])
    kinds = {c["grade_id"]: is_judged(c["source"]) for c in _cells(source)}
    assert kinds == {**dict.fromkeys(JUDGED, True), **dict.fromkeys(PLAIN, False)}
    assert {c["grade_id"]: c["max_points"] for c in _cells(source)} == FULL
    assert sum("### BEGIN HIDDEN TESTS" in c["source"] for c in _cells(source)) == 1


def test_the_example_checks_score_the_evidence_as_they_score_the_live_objects(evidence_dir, capsys):
    """The solution, run in this process with evidence collected, then the judge on the evidence alone."""
    from autograder.judge.cells import judge

    source = nbformat.read(SOURCE, as_version=4)
    kernel: dict = {"__name__": "__main__"}
    for cell in source.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), kernel)  # our own notebook
    assert kernel["add"](1, 2) == 3 and kernel["squares"].tolist()[-1] == 81
    out = capsys.readouterr().out
    assert "add: 2 / 2 points" in out and "squares: 2 / 2 points" in out and "model: 3 / 3 points" in out
    files = sorted(p.name for p in evidence_dir.iterdir())
    assert files == ["add.calls.json", "add.calls.npz", "model.keras", "squares.array.npy"]
    judged = [c for c in _cells(source) if is_judged(c["source"])]
    verdicts = judge(evidence_dir, judged)
    assert {g: points for g, (points, _) in verdicts.items()} == JUDGED, verdicts
    assert "✔ add adds arrays element by element" in verdicts["add_judged"][1]


# --- the worked example in a course, through nbgrader autograde ------------------------------

TAMPERING = '''
import autograder.checks
import autograder.grading
from autograder.checks import result as _result


class CheckResult(_result.CheckResult):  # every part passes
    def add(self, passed, ok, wrong, weight=1.0):
        return super().add(True, ok, wrong, weight)


_result.CheckResult = autograder.checks.CheckResult = CheckResult
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.save = lambda *args, **kwargs: None
'''
REPLACE_GRADE = '''
def grade(check, namespace, out_of, **given):
    print("all good")
    return out_of


autograder.grading.grade = grade
'''
PATCH_PLAIN_TESTS = "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
SQUARES_UNDONE = "squares = np.zeros(10)  # to do"

SOLUTIONS = {
    "add": "def add(a, b):\n    return a + b",
    "squares": "squares = np.arange(10) ** 2",
    "model": 'model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, "softmax")])\n'
             'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")',
}
WRONG = {
    "add": "def add(a, b):\n    return a - b",
    "model": 'model = tf.keras.Sequential([tf.keras.Input(shape=(5,)), tf.keras.layers.Dense(2, "relu")])\n'
             'model.compile(optimizer="sgd", loss="mse")',
}
# student -> their answers (solution cell grade_id -> source); the blank is the release itself
WORK = {
    "wrong_add": {**SOLUTIONS, "add": WRONG["add"]},
    "wrong_model": {**SOLUTIONS, "model": WRONG["model"]},
    "honest_undone": {**SOLUTIONS, "squares": SQUARES_UNDONE},  # the honest twin of both below
    "tampered_checks": {**SOLUTIONS, "squares": TAMPERING + SQUARES_UNDONE},
    "tampered_grade": {**SOLUTIONS, "squares": TAMPERING + REPLACE_GRADE + SQUARES_UNDONE},
    "tampered_plain": {**SOLUTIONS, "squares": PATCH_PLAIN_TESTS + SQUARES_UNDONE},
}


def _answered(release: Path, answers: dict[str, str], target: Path) -> Path:
    """The release notebook with each solution cell's source replaced by the student's answer."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """The example added to a copy of this course, generated, submitted and autograded.

    {"scores": student -> grade_id -> points, "problems": student -> the notes on their notebook}.
    """
    from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook, submit

    tmp = tmp_path_factory.mktemp("example")
    course = tmp / "course"
    make_course(course)
    shutil.copytree(SOURCE.parent, course / "source" / ASSIGNMENT)
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert "BEGIN HIDDEN TESTS" not in release.read_text() and "np.sqrt(squares)" not in release.read_text()
    work = {"solution": SOURCE, "blank": release}
    for student, answers in WORK.items():
        work[student] = _answered(release, answers, tmp / f"{student}.ipynb")
    for student, notebook in work.items():
        submit(course, ASSIGNMENT, student, notebook)
    run_nbgrader(course, "autograde", ASSIGNMENT)
    url = f"sqlite:///{course / 'gradebook.db'}"
    scores, problems, printed = {}, {}, {}
    for student in work:
        scores[student] = {g: p for g, p, _ in scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, student)}
        autograded = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
        problems[student] = autograded.metadata.get("autograder", {}).get("problems", [])
        printed[student] = {c.metadata["nbgrader"]["grade_id"]: "".join(o.get("text", "") for o in c.outputs)
                            for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade")}
    return {"scores": scores, "problems": problems, "printed": printed}


@pytest.mark.slow
def test_the_solution_scores_full_marks_and_the_blank_nothing(graded):
    scores = graded["scores"]
    assert scores["solution"] == FULL
    assert scores["blank"] == dict.fromkeys(FULL, 0.0)
    assert graded["problems"]["solution"] == [] and graded["problems"]["blank"] == []
    # Each cell says what scored it, and so what it protects against.
    printed = graded["printed"]["solution"]
    assert all(printed[g].rstrip().endswith(JUDGED_NOTE) for g in JUDGED), printed
    assert all(printed[g].startswith(PLAIN_NOTE) for g in PLAIN), printed


@pytest.mark.slow
@pytest.mark.parametrize(("student", "cells"), [("wrong_add", {"add_judged"}),
                                                ("wrong_model", {"model_judged"}),
                                                ("honest_undone", {"squares_judged", "squares_plain"})])
def test_a_wrong_answer_scores_zero_in_its_own_cells_only(graded, student, cells):
    assert graded["scores"][student] == {g: 0.0 if g in cells else points for g, points in FULL.items()}
    assert graded["problems"][student] == []


@pytest.mark.slow
@pytest.mark.parametrize("tampered", ["tampered_checks", "tampered_grade"])
def test_tampering_in_the_kernel_gains_nothing_in_the_judged_cells(graded, tampered):
    """Honest twins: the same work (``squares`` undone), with and without tampering in the kernel.

    The tampering (in a solution cell) makes every ``CheckResult`` part pass, makes
    ``np.array_equal`` always true and ``np.testing.assert_allclose`` a no-op, replaces
    ``np.save``, and in ``tampered_grade`` also replaces ``grade`` itself.  In the judged cells
    it earns no more than honest work, cell by cell (replacing ``grade`` saves no evidence, so
    it even loses the model's points), and the notebook is noted: it claimed more than the
    judge confirms.  The note goes on the plain cell too, which keeps the points the kernel's own
    output earns (there the patched ``np.testing`` passes it: the documented difference).
    """
    scores, honest = graded["scores"][tampered], graded["scores"]["honest_undone"]
    for cell in JUDGED:
        assert scores[cell] <= honest[cell], (cell, scores, honest)
    assert scores["squares_judged"] == 0.0
    assert any("tampered with" in p for p in graded["problems"][tampered]), graded["problems"][tampered]
    if tampered == "tampered_checks":  # the evidence was saved: the honest parts still count
        assert {g: scores[g] for g in JUDGED} == {g: honest[g] for g in JUDGED}
    assert scores["squares_plain"] == PLAIN["squares_plain"], scores  # a note never costs a plain cell


@pytest.mark.slow
def test_the_plain_cell_is_not_protected_from_patching_in_the_kernel(graded):
    """The documented difference: a plain cell is scored from the kernel's own output, as stock
    nbgrader scores it.  With ``np.testing.assert_allclose`` made a no-op (and the judged cells'
    claims left alone, so nothing is noted) the undone ``squares`` passes the plain cell, while
    the judged cell for the same answer still gives 0, as for its honest twin.
    """
    scores, honest = graded["scores"]["tampered_plain"], graded["scores"]["honest_undone"]
    assert honest["squares_plain"] == 0.0 and scores["squares_plain"] == PLAIN["squares_plain"]
    assert {g: scores[g] for g in JUDGED} == {g: honest[g] for g in JUDGED}
    assert scores["squares_judged"] == 0.0 and graded["problems"]["tampered_plain"] == []
