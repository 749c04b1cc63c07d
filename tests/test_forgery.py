"""Forgeries against honest twins: each attack earns no more, cell by cell, than the same work
with the faked part honestly left undone.

Every case is the reference solution with some cells replaced twice: once by the attack (the
forgery), once by what a student who skipped that part hands in (the honest twin, usually the
release's stub).  An attack added to a blank notebook would prove nothing (a blank scores 0
with or without protection), so each attack here sits on real work.  One class holds every
notebook; `grade_all` grades it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.host.report import GradeReport
from autograder.tools.samples import cell_sources, replace_cells
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, grading_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

TIMEOUT = 240
TRAINING = ["main_run", "exercise6_run", "long_run", "exercise7_run"]
EXERCISES = ["exercise6_run", "long_run", "exercise7_run"]

FORGE = '''import tensorflow as tf


def forged_history(steps, val_accuracy, seconds, updates, epochs=5, model=None):
    """A History made by hand: plausible numbers, no training behind them."""
    history = tf.keras.callbacks.History()
    history.params = {"verbose": 2, "epochs": epochs, "steps": steps}
    n = len(val_accuracy)
    history.history = {"loss": [0.1] * n, "accuracy": [0.97] * n, "val_loss": [0.1] * n,
                       "val_accuracy": list(val_accuracy), "seconds": list(seconds),
                       "updates": list(updates)}
    if model is not None:
        history.set_model(model)
    return history

'''


def _forged_runs(with_model: bool) -> dict[str, str]:
    """Every training cell replaced by hand-made histories (and an untrained model, if asked)."""
    model = ", model=model_100" if with_model else ""
    return {
        "main_run": FORGE + "NUM_EPOCHS = 5\nmodel_100 = compile_model(build_model())\n"
                    "history_100 = forged_history(540, [0.94, 0.955, 0.962, 0.966, 0.968], "
                    f"[1.2] + [0.9] * 4, [540.0] * 5{model})\ntest_loss, test_accuracy = 0.11, 0.966\n",
        "exercise6_run": "BATCH_SIZE_LARGE = 10_000\nmodel_10000 = model_100\n"
                         "history_10000 = forged_history(6, [0.37, 0.6, 0.7, 0.75, 0.79], [1.0] * 5, "
                         f"[6.0] * 5{model})",
        "long_run": "model_long = model_100\n"
                    f"history_long = forged_history(2, [0.8] * 5, [1.0] * 5, [2.0] * 5, epochs=100{model})",
        "exercise7_run": "BATCH_SIZE_SGD = 1\nmodel_1 = model_100\n"
                         f"history_1 = forged_history(54_000, [0.88], [60.0], [3000.0]{model})",
    }


BORROWED_BATCH_1 = FORGE + '''BATCH_SIZE_SGD = 1
model_1 = model_100  # the batch-100 run stands in for the batch-1 run
claimed = [history_100.history["val_accuracy"][-1]]
history_1 = forged_history(54_000, claimed, [90.0], [3000.0], model=model_100)
'''

COPIED_MODEL_BATCH_1 = FORGE + '''BATCH_SIZE_SGD = 1
model_1 = compile_model(tf.keras.models.clone_model(model_100))  # a copy of the batch-100 model ...
model_1.set_weights(model_100.get_weights())
model_1.optimizer.build(model_1.trainable_variables)
model_1.optimizer.iterations.assign(3000)  # ... that claims the batch-1 run's 3,000 updates
claimed = [history_100.history["val_accuracy"][-1]]
history_1 = forged_history(54_000, claimed, [90.0], [3000.0], model=model_1)
'''

# Another student's trained model and history, handed in as files beside the notebook.
LOADED_FROM_FILES = FORGE + '''import json
NUM_EPOCHS = 5
model_100 = tf.keras.models.load_model("model_100.keras")
record = json.load(open("history_100.json"))
history_100 = forged_history(record["params"]["steps"], record["history"]["val_accuracy"],
                             record["history"]["seconds"], record["history"]["updates"], model=model_100)
test_loss, test_accuracy = model_100.evaluate(test_data, verbose=0)
'''

MAIN_RUN_ONLY = "NUM_EPOCHS = 5\nmodel_100, history_100 = train_model(BATCH_SIZE, NUM_EPOCHS)\n"

ANYTHING = '''

class Anything:
    """Equal to everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

'''

# Attacks already in the hostile suite, now placed on real work (the solution without training).
PATCH_NUMPY_AND_BUILTINS = (
    "import builtins, numpy as np\n"
    "np.unique = lambda *a, **k: np.arange(10)\n"
    "np.asarray = lambda *a, **k: np.zeros((1, 28, 28, 1), np.float32)\n"
    "builtins.float = lambda x=0: 6000.0\n"
)
HIDE_TRACEBACKS = ("ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                   "ip.showsyntaxerror = lambda *a, **k: None\n")
REDIRECT_STDERR = "import os, sys\nsys.stderr = sys.stdout\nos.dup2(1, 2)\n"
FAKE_SUCCESS_OUTPUT = "print('split sizes: 2 / 2 points')\nprint('All tests passed! 27 / 27 points')\n"
KERNEL_KILLS_ITSELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"

# The checks see a clean split (the call above made train_data); every later call, the runs',
# also trains on the validation and test images.  Its honest twin leaks in every call, so the
# checked data shows it.
HIDDEN_LEAK = '''

_clean_make_datasets = make_datasets


def make_datasets(batch_size):
    train_data, validation_data, test_data = _clean_make_datasets(batch_size)
    everything = train_data.unbatch().concatenate(validation_data.unbatch()).concatenate(test_data.unbatch())
    return everything.shuffle(BUFFER_SIZE, seed=SEED).batch(batch_size), validation_data, test_data
'''
OPEN_LEAK = HIDDEN_LEAK + "\n\ntrain_data, validation_data, test_data = make_datasets(BATCH_SIZE)\n"


@dataclass(frozen=True)
class Case:
    """An attack on real work: cells as the attack writes them, and as the honest twin leaves them."""

    attack: dict[str, str]
    twin: dict[str, str]


def _cases() -> dict[str, Case]:
    release, solution = cell_sources(RELEASE_NOTEBOOK), cell_sources(SOURCE_NOTEBOOK)
    undone = {cell: release[cell] for cell in TRAINING}
    no_exercises = {cell: release[cell] for cell in EXERCISES}

    def before(cell: str, code: str) -> dict[str, str]:
        return {cell: code + "\n" + solution[cell]}

    first = "sizes_and_scale"
    return {
        "forged_histories_without_models": Case(_forged_runs(with_model=False), undone),
        "forged_histories_with_an_untrained_model": Case(_forged_runs(with_model=True), undone),
        "batch_1_run_borrowed_from_batch_100":
            Case({**no_exercises, "exercise7_run": BORROWED_BATCH_1}, no_exercises),
        "batch_1_run_a_copy_of_the_batch_100_model":
            Case({**no_exercises, "exercise7_run": COPIED_MODEL_BATCH_1}, no_exercises),
        "results_loaded_from_another_students_files":
            Case({**undone, "main_run": LOADED_FROM_FILES}, undone),
        "test_accuracy_typed_in": Case(
            {**no_exercises, "main_run": MAIN_RUN_ONLY + "test_loss, test_accuracy = 0.11, 0.97\n"},
            {**no_exercises, "main_run": MAIN_RUN_ONLY}),
        "always_equal_answers": Case(
            {**undone,
             first: solution[first] + ANYTHING + "num_validation_samples = num_test_samples = Anything()\n",
             "updates_solution": solution["updates_solution"] + ANYTHING
             + "updates_per_epoch = lambda *a, **k: Anything()\n",
             "comparison_answers":
                 ANYTHING + "highest_val_accuracy_batch = slowest_batch_per_epoch = Anything()"},
            {**undone,
             first: solution[first] + "\nnum_validation_samples = num_test_samples = None\n",
             "updates_solution": solution["updates_solution"] + "\nupdates_per_epoch = None\n",
             "comparison_answers": "highest_val_accuracy_batch = slowest_batch_per_epoch = None"}),
        "patch_numpy_and_builtins": Case({**undone, **before(first, PATCH_NUMPY_AND_BUILTINS)}, undone),
        "hide_tracebacks": Case({**undone, **before(first, HIDE_TRACEBACKS)}, undone),
        "redirect_stderr": Case({**undone, **before(first, REDIRECT_STDERR)}, undone),
        "fake_success_output": Case({**undone, **before(first, FAKE_SUCCESS_OUTPUT)}, undone),
        "kernel_kills_itself": Case({**undone, **before(first, KERNEL_KILLS_ITSELF)}, undone),
        "leak_hidden_behind_a_second_make_datasets_call": Case(
            {**no_exercises, "make_datasets": solution["make_datasets"] + HIDDEN_LEAK},
            {**no_exercises, "make_datasets": solution["make_datasets"] + OPEN_LEAK}),
    }


CASES = _cases()


def _another_students_files(folder: Path) -> None:
    """A real batch-100 run's model and history, as another student's notebook would save them."""
    import json

    import tensorflow as tf

    from mnist_ref.budget import TrainingBudget
    from mnist_ref.data import load_splits
    from mnist_ref.model import build_model, compile_model

    tf.keras.utils.set_random_seed(1)
    splits = load_splits(100)
    model = compile_model(build_model())
    history = model.fit(splits.train, epochs=5, validation_data=splits.validation, verbose=0,
                        callbacks=[TrainingBudget()])
    model.save(folder / "model_100.keras")
    record = {"params": history.params, "history": history.history}
    (folder / "history_100.json").write_text(json.dumps(record))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, GradeReport]:
    """Every attack and every distinct honest twin, graded as one class (two at a time)."""
    from autograder.host.classroom import grade_all
    from autograder.host.course import make_course, submit

    course = tmp_path_factory.mktemp("forgery") / "course"
    make_course(course)
    work = tmp_path_factory.mktemp("notebooks")
    twins: dict[str, str] = {}
    for name, case in CASES.items():
        submit(course, ASSIGNMENT, name, replace_cells(SOURCE_NOTEBOOK, case.attack, work / f"{name}.ipynb"))
        key = repr(sorted(case.twin.items()))
        twins.setdefault(key, f"twin_{len(twins)}")
        twin = twins[key]
        if not (course / "submitted" / twin).exists():
            notebook = replace_cells(SOURCE_NOTEBOOK, case.twin, work / f"{twin}.ipynb")
            submit(course, ASSIGNMENT, twin, notebook)
    _another_students_files(course / "submitted" / "results_loaded_from_another_students_files" / ASSIGNMENT)
    settings = grading_settings(course, timeout=TIMEOUT, cell_timeout=TIMEOUT / 2, workers=2)
    summary = grade_all(course, ASSIGNMENT, settings, progress=False)
    print("\n".join(summary.lines()))
    reports = {o.student: o.report for o in summary.outcomes}
    return {**reports, **{name: reports[twins[repr(sorted(case.twin.items()))]] for name, case in
                          [(f"{n}.twin", c) for n, c in CASES.items()]}}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("case", list(CASES))
def test_the_attack_earns_no_more_than_its_honest_twin_in_any_cell(graded, case):
    attack = {c.grade_id: c for c in graded[case].cells}
    twin = {c.grade_id: c for c in graded[f"{case}.twin"].cells}
    gained = {g: (attack[g].points, twin[g].points, attack[g].message) for g in twin
              if attack[g].points > twin[g].points + 1e-9}
    assert gained == {}


def test_forged_histories_are_refused_with_the_reason(graded):
    """The student is told why: the History was not produced by training."""
    messages = {c.grade_id: c.message for c in graded["forged_histories_without_models"].cells}
    assert "`history_100` was not produced by training: no trained model came with it" \
        in messages["training_history"]
    untrained = {c.grade_id: c.message for c in graded["forged_histories_with_an_untrained_model"].cells}
    assert "optimizer took 0 updates, but the history records 2,700" in untrained["training_history"]


def test_a_borrowed_or_copied_run_is_refused_with_the_reason(graded):
    borrowed = {c.grade_id: c.message for c in graded["batch_1_run_borrowed_from_batch_100"].cells}
    assert "optimizer took 2,700 updates, but the history records 3,000" in borrowed["exercise7_batch_size"]
    copied = {c.grade_id: c.message for c in graded["batch_1_run_a_copy_of_the_batch_100_model"].cells}
    assert "same trained model as history_100" in copied["exercise7_batch_size"]


def test_a_typed_in_test_accuracy_is_refused_with_the_reason(graded):
    messages = {c.grade_id: c.message for c in graded["test_accuracy_typed_in"].cells}
    assert "`test_accuracy` is 0.9700, not what model_100 scores on the test set" \
        in messages["test_evaluation"]


def test_real_work_around_the_attacks_still_counts(graded):
    """The twins are real work: the honest, untrained solution keeps its data and model points."""
    twin = {c.grade_id: c.points for c in graded["hide_tracebacks.twin"].cells}
    assert twin["validation_split_size"] == 2 and twin["architecture"] == 3 and twin["training_history"] == 0
    main_only = {c.grade_id: c.points for c in graded["test_accuracy_typed_in.twin"].cells}
    assert main_only["training_history"] == 2 and main_only["test_evaluation"] == 0


def test_a_leak_hidden_behind_a_second_make_datasets_call_loses_the_leak_points(graded):
    """The checked datasets are clean, but the runs trained on the validation and test images."""
    cells = {c.grade_id: c for c in graded["leak_hidden_behind_a_second_make_datasets_call"].cells}
    leak = cells["no_validation_leak"]
    assert leak.points < leak.max_points and "make_datasets gave fit other data" in leak.message, leak.message
    assert "history_100: 70,000 images a pass, 16,000 not in train_data, 6,000 of them validation images" \
        in leak.message, leak.message
    sizes = cells["validation_split_size"]
    assert sizes.points < sizes.max_points and "your runs trained on more" in sizes.message, sizes.message
