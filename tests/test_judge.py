"""The judge: a history its own model cannot reproduce is refused; cells are scored like nbgrader."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.evidence.records import MissingEvidence
from autograder.judge import run_cell, verify_histories


def _test_set_accuracy(model) -> float:
    """What ``model`` scores on the test split tfds.load gives (scaled to [0, 1])."""
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(tfds.load("mnist", split="test", as_supervised=True, batch_size=-1))
    predictions = model.predict(images.astype(np.float32) / 255.0, verbose=0)
    return float((predictions.argmax(axis=-1) == labels).mean())


@pytest.mark.usefixtures("mock_mnist")
def test_a_history_its_model_cannot_reproduce_is_refused_and_an_honest_one_kept():
    """An untrained model scores about 0.1: claiming 0.97 is forged, claiming its real score is not."""
    import tensorflow as tf

    from mnist_ref.model import build_model

    tf.keras.utils.set_random_seed(0)
    untrained = build_model()
    honest = _test_set_accuracy(untrained)
    assert honest < 0.9  # so that claiming 0.97 is far from what the model does
    namespace = {
        "history_forged": SimpleNamespace(params={}, history={"val_accuracy": [0.5, 0.97]}),
        "history_forged.model": untrained,
        "history_honest": SimpleNamespace(params={}, history={"val_accuracy": [0.3, honest]}),
        "history_honest.model": untrained,
        "history_without_validation": SimpleNamespace(params={}, history={"loss": [2.3]}),
        "history_without_validation.model": untrained,
    }
    verify_histories(namespace)
    assert isinstance(namespace["history_forged"], MissingEvidence)
    assert "val_accuracy 0.9700 does not match the model it trained" in namespace["history_forged"].reason
    assert f"that model scores {honest:.4f}" in namespace["history_forged"].reason
    assert namespace["history_honest"].history["val_accuracy"][-1] == honest
    assert not isinstance(namespace["history_without_validation"], MissingEvidence)
    assert not any(key.endswith(".model") for key in namespace)  # grade cells never see them


def test_without_trained_models_the_test_set_is_never_loaded(monkeypatch):
    """Histories with no saved model (and other evidence) need no MNIST: the judge stays offline."""
    import autograder.judge.histories as histories

    def no_mnist():
        raise AssertionError("the test set was loaded")

    monkeypatch.setattr(histories, "_reference_test_sets", no_mnist)
    namespace = {"history_100": SimpleNamespace(params={}, history={"val_accuracy": [0.97]}), "x": 1}
    verify_histories(namespace)
    assert namespace["history_100"].history["val_accuracy"] == [0.97] and namespace["x"] == 1


def test_cells_score_like_nbgrader_error_number_or_full():
    """An error gives 0 with its reason; a number is the score (capped); no value is full credit."""
    shared: dict = {"__builtins__": __builtins__}
    assert run_cell("x = 1\nraise AssertionError('expected 6,000')", shared, 2) == \
        (0.0, "AssertionError: expected 6,000")
    assert run_cell("print('half')\n1.5", shared, 2) == (1.5, "half")
    assert run_cell("99", shared, 2)[0] == 2.0
    assert run_cell("y = x + 1", shared, 2)[0] == 2.0 and shared["y"] == 2  # names carry over
