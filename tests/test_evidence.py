"""Evidence round trip: what the kernel writes, the judge loads back, and checks score it the same."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from autograder import checks
from autograder.evidence import write as evidence
from autograder.evidence.facts import dataset_facts, history_facts, model_facts
from autograder.evidence.read import load
from autograder.evidence.records import ENV_DIR, FunctionEvidence, MissingEvidence
from autograder.grading import run_check, var

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def _split(n: int, seed: int) -> tf.data.Dataset:
    """``n`` random images scaled to [0, 1] with labels 0-9, one element per image."""
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28, 1), dtype=np.uint8)
    return tf.data.Dataset.from_tensor_slices((images.astype(np.float32) / 255.0, np.arange(n) % 10))


def updates_per_epoch(batch_size, num_train=54_000):
    return math.ceil(num_train / batch_size)


def _student_objects() -> dict:
    """A small notebook's variables of every kind evidence knows (and one that breaks)."""
    from mnist_ref.model import build_model, compile_model

    model = compile_model(build_model())
    history = tf.keras.callbacks.History()  # as model.fit returns it, without the training
    history.set_model(model)
    history.set_params({"verbose": 0, "epochs": 5, "steps": 6})
    history.history = {"val_accuracy": [0.5, 0.6, 0.7, 0.75, 0.79], "loss": [2.0, 1.5, 1.2, 1.0, 0.9]}
    everything = _split(120, 1)
    fixed = everything.shuffle(120, seed=3, reshuffle_each_iteration=False)
    leaky = everything.shuffle(120)
    nan_images = tf.data.Dataset.from_tensor_slices(np.full((4, 28, 28, 1), np.nan, np.float32))
    return {
        "num_validation_samples": 6_000,
        "num_test_samples": tf.cast(10_000.0, tf.int64),
        "test_accuracy": tf.constant(0.97),
        "highest_val_accuracy_batch": np.int64(100),
        "answer_text": "batch 100",
        "model_100": model,
        "history_10000": history,
        "train_data": fixed.skip(20).batch(10),
        "validation_data": fixed.take(20).batch(20),
        "test_data": _split(30, 2).batch(30),
        "leaky_train": leaky.skip(60).batch(10),
        "leaky_validation": leaky.take(60).batch(60),
        "updates_per_epoch": updates_per_epoch,
        "floor_updates": lambda batch_size: 54_000 // batch_size,
        "broken_data": nan_images.map(lambda x: (tf.debugging.check_numerics(x, "pixels are NaN"), 0)),
    }


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory) -> tuple[dict, dict, Path]:
    """(live objects, what the judge loads from their evidence, the evidence folder)."""
    folder = tmp_path_factory.mktemp("evidence")
    live = _student_objects()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_DIR, str(folder))
        mp.setattr(evidence, "_exported", {})
        for name, value in live.items():
            evidence.write(name, value)
    return live, load(folder), folder


def test_numbers_and_strings_come_back_as_plain_values(round_trip):
    """ints, NumPy and tf.Tensor scalars come back as floats; a string as itself."""
    _, loaded, _ = round_trip
    assert loaded["num_validation_samples"] == 6_000
    assert loaded["num_test_samples"] == 10_000
    assert loaded["test_accuracy"] == pytest.approx(0.97)
    assert loaded["highest_val_accuracy_batch"] == 100
    assert loaded["answer_text"] == "batch 100"


def test_a_model_comes_back_with_the_same_architecture_and_compile_settings(round_trip):
    live, loaded, _ = round_trip
    assert isinstance(loaded["model_100"], tf.keras.Model)
    assert model_facts(loaded["model_100"]) == model_facts(live["model_100"])


def test_a_history_comes_back_with_its_logs_and_the_model_it_trained(round_trip):
    live, loaded, _ = round_trip
    assert history_facts(loaded["history_10000"]) == history_facts(live["history_10000"])
    trained, facts = model_facts(loaded["history_10000.model"]), model_facts(live["model_100"])
    assert {**trained, "compile": None} == {**facts, "compile": None}  # the judge only predicts with it


def test_a_dataset_comes_back_as_its_facts_and_fingerprints_of_two_passes(round_trip):
    live, loaded, folder = round_trip
    for name, count in [("train_data", 100), ("validation_data", 20), ("test_data", 30)]:
        record = loaded[name]
        assert record.facts == dataset_facts(live[name])
        assert record.facts["num_examples"] == count
        assert [len(e) for e in record.epochs] == [count, count]
        assert len(set(record.epochs[0].tolist())) == count  # one distinct fingerprint per image
        assert record.epochs[0].dtype == np.uint64  # 8-byte hashes, not the images themselves
    assert sorted(p.name for p in folder.glob("train_data.*")) == [
        "train_data.dataset.json", "train_data.fingerprints.npz"]


def test_numpy_or_builtins_replaced_after_import_do_not_change_what_is_written(evidence_dir, monkeypatch):
    """What student code may do after the locked setup cell imported the writer: written as before."""
    import builtins

    data = _split(30, 2).batch(10)
    expected = dataset_facts(data)
    monkeypatch.setattr(evidence, "_exported", {})
    monkeypatch.setattr(np, "unique", lambda *a, **k: np.array([99]))
    monkeypatch.setattr(np, "uint64", np.float16)
    monkeypatch.setattr(builtins, "float", lambda *a: 0.5)
    evidence.write("fresh_data", data)
    monkeypatch.undo()
    record = load(evidence_dir)["fresh_data"]
    assert record.facts == expected and record.epochs[0].dtype == np.uint64


def test_a_function_answers_the_probe_inputs_and_refuses_others(round_trip):
    _, loaded, _ = round_trip
    function = loaded["updates_per_epoch"]
    assert isinstance(function, FunctionEvidence)
    assert [function(b) for b in (1, 100, 7, 10_000, 54_000, 60_000)] == [54_000, 540, 7_715, 6, 1, 1]
    assert function(100.0) == 540
    for outside in (0, 60_001, 2.5):
        with pytest.raises(ValueError, match="was not recorded"):
            function(outside)


def test_a_function_that_raised_on_an_input_raises_there_in_the_judge(evidence_dir):
    def picky(batch_size):
        if batch_size == 7:
            raise ZeroDivisionError("seven")
        return 1

    evidence.write("picky", picky)
    function = load(evidence_dir)["picky"]
    assert function(6) == 1
    with pytest.raises(ValueError, match="raised an error or returned a non-number"):
        function(7)


def test_an_object_that_fails_while_saved_becomes_missing_evidence_with_the_reason(round_trip):
    _, loaded, folder = round_trip
    broken = loaded["broken_data"]
    assert isinstance(broken, MissingEvidence)
    assert "InvalidArgumentError" in broken.reason and "pixels are NaN" in broken.reason
    assert (folder / "broken_data.error.json").is_file()
    result = run_check(checks.check_scaling, {**loaded, "train_data": broken})
    assert result.score == 0
    assert "`broken_data` could not be saved for grading: InvalidArgumentError" in result.message


def test_unreadable_evidence_counts_as_missing(evidence_dir):
    (evidence_dir / "model.keras").write_bytes(b"not a zip file")
    (evidence_dir / "train_data.dataset.json").write_text("{}")  # its fingerprints file is missing
    loaded = load(evidence_dir)
    for name in ("model", "train_data"):
        assert isinstance(loaded[name], MissingEvidence)
        assert "could not be read back for grading" in loaded[name].reason


CHECKS = {
    "architecture": (checks.check_architecture, {"model": var("model_100")}),
    "compile": (checks.check_compile, {"model": var("model_100")}),
    "split_sizes": (checks.check_split_sizes, {}),
    "scaling": (checks.check_scaling, {}),
    "shapes_and_labels": (checks.check_shapes_and_labels, {}),
    "batching": (checks.check_batching, {"batch_size": 10}),
    "no_leak": (checks.check_no_validation_leak, {}),
    "leak": (checks.check_no_validation_leak,
             {"train_data": var("leaky_train"), "validation_data": var("leaky_validation")}),
    "run_batch_size": (checks.check_run_batch_size, {"history": var("history_10000"), "batch_size": 10_000}),
    "test_evaluation": (checks.check_test_evaluation, {}),
    "function_cases": (checks.check_function_cases,
                       {"function": var("updates_per_epoch"), "name": "updates_per_epoch",
                        "cases": {1: 54_000, 7: 7_715, 30_000: 2}}),
    "function_cases_wrong": (checks.check_function_cases,
                             {"function": var("floor_updates"), "name": "floor_updates",
                              "cases": {1: 54_000, 7: 7_715, 30_000: 2}}),
    "value": (checks.check_value, {"answer": var("highest_val_accuracy_batch"), "expected": 100,
                                   "name": "highest_val_accuracy_batch"}),
}


@pytest.mark.parametrize("case", list(CHECKS))
def test_a_check_scores_the_evidence_as_it_scores_the_live_objects(round_trip, case):
    live, loaded, _ = round_trip
    check, given = CHECKS[case]
    on_live, on_evidence = run_check(check, live, **given), run_check(check, loaded, **given)
    assert on_evidence.score == on_live.score, (on_live.message, on_evidence.message)
    # The leak's counts depend on the shuffles drawn; a function's results come back as floats.
    if case not in ("leak", "no_leak", "function_cases_wrong"):
        assert on_evidence.message == on_live.message


def test_the_leaky_split_fails_and_the_fixed_one_passes_on_evidence(round_trip):
    """The fingerprints of two passes are enough to see the lesson's leak in the judge."""
    _, loaded, _ = round_trip
    assert run_check(checks.check_no_validation_leak, loaded).score == 1
    leaky = run_check(checks.check_no_validation_leak, loaded, train_data=var("leaky_train"),
                      validation_data=var("leaky_validation"))
    assert leaky.score == 0 and "validation images also appear in the training data" in leaky.message


def test_nothing_is_written_without_the_evidence_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_DIR, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(evidence, "_exported", {})
    assert evidence.evidence_dir() is None
    evidence.write("num_validation_samples", 6_000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "a/b", "x y", "x.keras", "1x", "x" * 65, ""])
def test_a_name_that_is_not_a_notebook_variable_is_refused(evidence_dir, name):
    evidence.write(name, 1.5)
    assert list(evidence_dir.iterdir()) == []
    assert list(evidence_dir.parent.iterdir()) == [evidence_dir]


def test_the_same_object_is_written_once_and_a_new_one_replaces_it(evidence_dir):
    first, second = 1.5, 2.5
    evidence.write("answer", first)
    (evidence_dir / "answer.json").write_text('{"value": 0}')  # were it written again, this would go
    evidence.write("answer", first)
    assert load(evidence_dir)["answer"] == 0
    evidence.write("answer", second)
    assert load(evidence_dir)["answer"] == 2.5


def test_a_functional_model_with_tf_nn_activations_comes_back_whole(evidence_dir):
    """Keras saves activation=tf.nn.softmax as "softmax_v2" and cannot load that by itself."""
    inputs = tf.keras.Input(shape=(28, 28, 1))
    hidden = tf.keras.layers.Dense(50, activation=tf.nn.relu)(tf.keras.layers.Flatten()(inputs))
    hidden = tf.keras.layers.Dense(50, activation=tf.nn.relu)(hidden)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10, activation=tf.nn.softmax)(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    evidence.write("functional_model", model)
    loaded = load(evidence_dir)["functional_model"]
    assert not isinstance(loaded, MissingEvidence), loaded
    assert checks.check_architecture(loaded).score == checks.check_architecture(model).score == 1
