"""The judge: only a history that is its own model's training record counts, only a test accuracy
its model reproduces counts, and cells are scored like nbgrader.  Fast: TFDS's mock MNIST."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from autograder.evidence.records import HistoryEvidence, MissingEvidence
from autograder.judge import reference, run_cell, verify_evaluations, verify_histories


@pytest.fixture(autouse=True)
def fresh_test_sets() -> Iterator[None]:
    """The judge caches MNIST's test split per process; each test reads its own (mock) one."""
    reference.test_sets.cache_clear()
    yield
    reference.test_sets.cache_clear()


@pytest.fixture
def no_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the judge loads the test set at all."""
    def refuse():
        raise AssertionError("the test set was loaded")

    monkeypatch.setattr(reference, "test_sets", refuse)


@pytest.fixture(scope="module")
def trained_once():
    """The lesson's model after 2 epochs of 4 updates on random images, and its History (the tests
    only read them: trained once for the module)."""
    import tensorflow as tf

    from mnist_ref.model import build_model, compile_model

    tf.keras.utils.set_random_seed(0)
    model = compile_model(build_model())
    rng = np.random.default_rng(0)
    images, labels = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    history = model.fit(images, labels, batch_size=16, epochs=2, verbose=0)
    return model, history


@pytest.fixture
def trained(mock_mnist: int, trained_once):
    """:func:`trained_once`, with the judge's test set (TFDS's mock MNIST) for this test."""
    return trained_once


def _evidence(history, name: str, **changes) -> HistoryEvidence:
    """The History as the judge reads it back, with the budget callback's updates per epoch."""
    logs = {key: list(values) for key, values in history.history.items()}
    logs["updates"] = [float(history.params["steps"])] * len(logs["loss"])
    logs["val_accuracy"] = [reference.accuracies(history.model)[0]] * len(logs["loss"])
    params = dict(history.params)
    for key, value in changes.items():
        (params if key in params else logs)[key] = value
    return HistoryEvidence(name, params, logs)


def test_the_history_fit_returned_with_its_own_model_is_kept(trained):
    model, history = trained
    namespace = {"history_100": _evidence(history, "history_100"), "history_100.model": model}
    verify_histories(namespace)
    assert isinstance(namespace["history_100"], HistoryEvidence)
    assert "history_100.model" not in namespace  # grade cells never see the trained models


@pytest.mark.usefixtures("no_mnist")
def test_a_history_made_by_hand_without_a_model_earns_nothing():
    forged = HistoryEvidence("history_1", {"epochs": 5, "steps": 54_000},
                             {"loss": [0.3], "val_accuracy": [0.95], "updates": [3000.0], "seconds": [60.0]})
    namespace = {"history_1": forged, "x": 1}
    verify_histories(namespace)
    assert isinstance(namespace["history_1"], MissingEvidence)
    assert "was not produced by training: no trained model came with it" in namespace["history_1"].reason
    assert namespace["x"] == 1


def test_a_history_pointing_at_another_runs_model_is_refused_by_its_update_count(trained):
    """history_1 claims 54,000 steps per epoch (3,000 updates under the budget) on a model that took 8."""
    model, history = trained
    borrowed = _evidence(history, "history_1", steps=54_000, updates=[54_000.0, 3000.0])
    namespace = {"history_1": borrowed, "history_1.model": model}
    verify_histories(namespace)
    assert isinstance(namespace["history_1"], MissingEvidence)
    assert "optimizer took 8 updates, but the history records 57,000" in namespace["history_1"].reason


def test_updates_per_epoch_that_do_not_fit_the_steps_per_epoch_are_refused(trained):
    model, history = trained
    namespace = {"history_1": _evidence(history, "history_1", updates=[2.0, 6.0]), "history_1.model": model}
    verify_histories(namespace)
    assert "do not fit its 4 steps per epoch" in namespace["history_1"].reason


def test_one_model_cannot_stand_for_two_runs(trained):
    """The same weights behind a run of 4 steps per epoch and one of 8: neither is believed."""
    model, history = trained
    accuracy = reference.accuracies(model)[0]
    other_run = _evidence(history, "history_1", steps=8, updates=[8.0], loss=[0.1], val_accuracy=[accuracy])
    namespace = {"history_100": _evidence(history, "history_100"), "history_100.model": model,
                 "history_1": other_run, "history_1.model": model}
    verify_histories(namespace)
    for name in ("history_100", "history_1"):
        assert isinstance(namespace[name], MissingEvidence)
        assert "same trained model as" in namespace[name].reason


def test_two_runs_of_one_configuration_may_train_the_same_weights(trained):
    """Seeded and deterministic: running the batch-100 configuration twice gives the same model."""
    model, history = trained
    namespace = {"history_100": _evidence(history, "history_100"), "history_100.model": model,
                 "history_10000": _evidence(history, "history_10000"), "history_10000.model": model}
    verify_histories(namespace)
    assert all(isinstance(namespace[n], HistoryEvidence) for n in ("history_100", "history_10000"))


def test_a_final_validation_accuracy_its_model_cannot_reproduce_is_refused(trained):
    model, history = trained
    honest = reference.accuracies(model)[0]
    assert honest < 0.9  # random images: claiming 0.97 is far from what the model does
    forged = _evidence(history, "history_100", val_accuracy=[0.5, 0.97])
    namespace = {"history_100": forged, "history_100.model": model}
    verify_histories(namespace)
    assert "final val_accuracy 0.9700 does not match the model it trained" in namespace["history_100"].reason


def test_a_test_accuracy_its_model_does_not_score_is_refused_and_the_real_one_kept(trained):
    model, _ = trained
    real = reference.accuracies(model)[0]
    honest = {"test_accuracy": np.float32(real), "model_100": model}
    verify_evaluations(honest)
    assert honest["test_accuracy"] == pytest.approx(real)
    typed_in = {"test_accuracy": 0.966, "model_100": model}
    verify_evaluations(typed_in)
    assert isinstance(typed_in["test_accuracy"], MissingEvidence)
    assert "is 0.9660, not what model_100 scores on the test set" in typed_in["test_accuracy"].reason


@pytest.mark.usefixtures("no_mnist")
def test_a_test_accuracy_without_its_model_earns_nothing_and_a_missing_one_is_left_to_the_check():
    alone = {"test_accuracy": 0.966}
    verify_evaluations(alone)
    assert "cannot be checked without model_100" in alone["test_accuracy"].reason
    nothing: dict = {}
    verify_evaluations(nothing)
    assert nothing == {}


def test_cells_score_like_nbgrader_error_number_or_full():
    """An error gives 0 with its reason; a number is the score (capped); no value is full credit."""
    shared: dict = {"__builtins__": __builtins__}
    assert run_cell("x = 1\nraise AssertionError('expected 6,000')", shared, 2) == \
        (0.0, "AssertionError: expected 6,000")
    assert run_cell("print('half')\n1.5", shared, 2) == (1.5, "half")
    assert run_cell("99", shared, 2)[0] == 2.0
    assert run_cell("y = x + 1", shared, 2)[0] == 2.0 and shared["y"] == 2  # names carry over
