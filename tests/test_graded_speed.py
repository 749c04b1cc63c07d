"""Under grading, ``fit`` runs several steps per call: the same updates, counted right, and the
budget still stops exactly at its limit."""

from __future__ import annotations

import pytest

from autograder.notebook import GRADED_STEPS_PER_EXECUTION, MAX_UPDATES

pytestmark = pytest.mark.training  # tiny random data, a few seconds


def test_the_graded_chunk_divides_the_update_budget():
    assert MAX_UPDATES % GRADED_STEPS_PER_EXECUTION == 0


def _fit(batch_size: int, epochs: int, graded: bool, monkeypatch) -> tuple[list[float], int]:
    import numpy as np
    import tensorflow as tf

    from autograder.notebook import faster_when_graded, grading_budget

    if graded:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    rng = np.random.default_rng(0)
    x, y = rng.random((5_400, 8), dtype=np.float32), rng.integers(0, 10, 5_400)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model = faster_when_graded(model)
    assert model.steps_per_execution == (GRADED_STEPS_PER_EXECUTION if graded else 1)
    history = model.fit(data, epochs=epochs, callbacks=[grading_budget()], verbose=0)
    return history.history["updates"], int(model.optimizer.iterations)


@pytest.mark.parametrize(("batch_size", "expected"), [(100, [54.0] * 3), (3_000, [2.0] * 3)])
def test_updates_per_epoch_are_the_optimizers_steps_also_when_the_epoch_ends_inside_a_chunk(
        batch_size, expected, monkeypatch):
    updates, iterations = _fit(batch_size, 3, graded=True, monkeypatch=monkeypatch)
    assert updates == expected and iterations == sum(expected)
    assert _fit(batch_size, 3, graded=False, monkeypatch=monkeypatch)[0] == expected


def test_the_budget_stops_batch_1_at_exactly_its_updates(monkeypatch):
    import autograder.notebook as notebook
    import mnist_ref.budget as budget

    monkeypatch.setattr(budget, "MAX_UPDATES", 500)  # 5,400 updates per epoch, budget 500
    monkeypatch.setattr(notebook, "grading_budget", lambda: budget.TrainingBudget(5, 500))
    updates, iterations = _fit(1, 2, graded=True, monkeypatch=monkeypatch)
    assert updates == [500.0] and iterations == 500
