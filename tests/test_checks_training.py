"""The training checks on hand-made histories (no training): batch sizes, long run, trend, bands."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from autograder.checks import (
    check_long_run,
    check_run_batch_size,
    check_test_evaluation,
    check_training_history,
    check_trend,
)
from autograder.checks.training import estimated_epoch_seconds, implied_batch_size


def _history(steps: int, epochs: int = 5, **logs: list[float]) -> SimpleNamespace:
    """What model.fit returns, as far as the checks read it: params and per-epoch logs."""
    return SimpleNamespace(params={"verbose": 2, "epochs": epochs, "steps": steps}, history=logs)


def _one_batch(n: int) -> tf.data.Dataset:
    """``n`` tiny scaled images in one batch: the lesson's counts, iterated at once."""
    return tf.data.Dataset.from_tensors((np.full((n, 1, 1, 1), 0.75, np.float32), np.arange(n) % 10))


@pytest.fixture(scope="module")
def model_100() -> tf.keras.Model:
    """The lesson's model, compiled as the lesson compiles it (never trained here)."""
    from mnist_ref.model import build_model, compile_model

    return compile_model(build_model())


@pytest.fixture(scope="module")
def lesson_data() -> dict:
    """Split sizes and datasets as the lesson makes them (54,000 / 6,000 / 10,000, scaled)."""
    return {"num_validation_samples": 6_000, "num_test_samples": 10_000, "train_data": _one_batch(54_000),
            "validation_data": _one_batch(6_000), "test_data": _one_batch(10_000)}


@pytest.fixture(scope="module")
def small_data() -> dict:
    """A pipeline that differs from the lesson: 1% validation, 64 training images."""
    return {"num_validation_samples": 600, "num_test_samples": 10_000, "train_data": _one_batch(64),
            "validation_data": _one_batch(6), "test_data": _one_batch(10)}


# ------------------------------------------------------------------ one run's batch size


def test_updates_per_epoch_name_the_batch_size_a_run_used():
    assert [implied_batch_size({"params": {"steps": s}}, 54_000) for s in (54_000, 540, 6, 2)] == \
        [1, 100, 10_000, 30_000]
    assert implied_batch_size({"params": {"steps": 17}}, 54_000) == 3_177  # no usual size: the estimate
    assert implied_batch_size({"params": {}}, 54_000) is None


def test_a_run_with_the_asked_batch_size_passes():
    result = check_run_batch_size(_history(steps=6), batch_size=10_000, train_data=None)
    assert result.score == 1, result.message


def test_a_run_with_another_batch_size_is_named_with_the_expected_updates_per_epoch():
    result = check_run_batch_size(_history(steps=540), batch_size=10_000, train_data=None)
    assert result.score == 0.25  # the batch size is three quarters of the cell
    assert ("this run took 540 updates per epoch, i.e. batch size 100; the exercise asks for "
            "batch size 10,000 (6 updates per epoch)") in result.message


def test_expected_updates_count_the_students_own_training_images(small_data):
    """64 training images at batch size 10 are 7 updates per epoch, not 5,400."""
    assert check_run_batch_size(_history(steps=7), 10, small_data["train_data"]).score == 1
    wrong = check_run_batch_size(_history(steps=5_400), 10, small_data["train_data"])
    assert "(7 updates per epoch)" in wrong.message


def test_a_run_that_requested_too_few_epochs_fails_that_part():
    result = check_run_batch_size(_history(steps=54_000, epochs=0), batch_size=1, train_data=None)
    assert result.score == 0.75
    assert "requested 0 epochs; expected at least 1" in result.message


# ------------------------------------------------------------------ the long run


def test_a_long_run_at_batch_30000_or_50000_for_100_epochs_passes():
    """Both batch sizes make 2 updates per epoch of 54,000 images."""
    assert check_long_run(_history(steps=2, epochs=100), train_data=None).score == 1


def test_a_long_run_with_batch_10000_or_only_10_epochs_is_named():
    wrong_batch = check_long_run(_history(steps=6, epochs=100), train_data=None)
    assert wrong_batch.score == 0.5
    assert "(batch size 10000); expected batch size 30,000 or 50,000 (2 updates per epoch)" \
        in wrong_batch.message
    too_short = check_long_run(_history(steps=2, epochs=10), train_data=None)
    assert too_short.score == 0.5 and "requested 10 epochs; expected about 100" in too_short.message


# ------------------------------------------------------------------ time per epoch


def test_epochs_cut_by_the_grading_budget_are_scaled_to_a_full_epoch():
    """3,000 of 54,000 updates in 3 s is an estimated 54 s epoch; a complete epoch stays as measured."""
    h = {"params": {"steps": 54_000}, "history": {"seconds": [3.0, 50.0], "updates": [3_000, 54_000]}}
    assert estimated_epoch_seconds(h) == pytest.approx([54.0, 50.0])


# ------------------------------------------------------------------ the trend


def _trend_runs(steps_100=540, steps_10k=6, steps_1=54_000, acc_1=0.85) -> dict:
    """Three runs as the exercises make them under the grading budget (batch 1 cut at 3,000 updates)."""
    return {
        "history_100": _history(steps_100, val_accuracy=[0.93, 0.95, 0.96, 0.965, 0.97],
                                seconds=[2.0, 1.0, 1.0, 1.0, 1.0], updates=[540] * 5),
        "history_10000": _history(steps_10k, val_accuracy=[0.3, 0.5, 0.6, 0.7, 0.79],
                                  seconds=[0.8] * 5, updates=[6] * 5),
        "history_1": _history(steps_1, epochs=5, val_accuracy=[acc_1], seconds=[3.0], updates=[3_000]),
    }


def test_the_lessons_trend_passes_with_budget_cut_batch_1_scaled_to_a_full_epoch(model_100, lesson_data):
    """Batch 1: 3 s for 3,000 updates is ~54 s per epoch, 54x batch 100 (unscaled it would be 3x)."""
    result = check_trend(**_trend_runs(), model_100=model_100, **lesson_data)
    assert result.score == 1, result.message
    assert "batch 100 (0.9700) beats batch 10,000 (0.7900)" in result.message
    assert "batch 1 takes about 54 s per epoch, 54x batch 100's 1.0 s" in result.message


def test_trend_failures_are_named(model_100, lesson_data):
    runs = _trend_runs(acc_1=0.5)
    runs["history_10000"].history["val_accuracy"] = [0.99] * 5
    runs["history_1"].history["seconds"] = [0.1]
    result = check_trend(**runs, model_100=model_100, **lesson_data)
    assert result.score == 0
    assert "expected batch 100 to be clearly ahead" in result.message
    assert "expected batch 1 to be at least 5x slower per epoch" in result.message
    assert "batch 1 reached only 0.5000 after one epoch; expected at least 0.8" in result.message


def test_runs_with_the_wrong_batch_size_earn_no_trend_points(model_100, lesson_data):
    """A trend needs the runs the exercises ask for: runs at batch 100 everywhere show no trend."""
    runs = _trend_runs(steps_10k=540, steps_1=540)  # both runs used batch 100
    runs["history_10000"].history["val_accuracy"] = [0.99] * 5
    result = check_trend(**runs, model_100=model_100, **lesson_data)
    assert result.score == 0, result.message
    assert "batch 100 vs 10,000 cannot be compared: history_10000 did not run at the batch size its " \
        "exercise asks for" in result.message
    assert "the time per epoch cannot be compared: history_1 did not run" in result.message
    assert "batch 1's accuracy cannot be judged: history_1 did not run at batch size 1" in result.message


def test_batch_1_accuracy_is_not_compared_when_the_pipeline_differs(model_100, small_data):
    runs = _trend_runs(steps_100=1, steps_10k=1, steps_1=64, acc_1=0.2)
    result = check_trend(**runs, model_100=model_100, **small_data)
    assert "batch 1 reached 0.2000 after one epoch (not compared with the reference" in result.message
    assert "split_sizes" in result.message


# ------------------------------------------------------------------ the main run and the bands


def test_the_main_run_within_the_band_passes(model_100, lesson_data):
    history = _history(540, val_accuracy=[0.93, 0.95, 0.96, 0.965, 0.97])
    result = check_training_history(history, model_100, **lesson_data)
    assert result.score == 1, result.message
    assert "within the reference band 0.955-0.985" in result.message


def test_the_main_run_below_the_band_or_with_other_epochs_and_batches_fails(model_100, lesson_data):
    low = check_training_history(_history(540, val_accuracy=[0.5] * 5), model_100, **lesson_data)
    assert low.score == 0.5  # the band is half the cell
    assert "the final validation accuracy is 0.5000; the lesson's setup reaches 0.955-0.985" in low.message
    other = check_training_history(_history(6, val_accuracy=[0.97] * 3), model_100, **lesson_data)
    assert other.score == 0.5  # only the band (half the cell) passes
    assert "history_100 has 3 epoch(s) with val_accuracy; expected 5" in other.message
    assert "history_100 ran 6 updates per epoch (batch size 10000); expected batch size 100 " \
        "(540 updates per epoch)" in other.message


def test_bands_are_not_applied_when_the_data_differ_from_the_lesson(model_100, small_data):
    """A mistake costs points in its own cell once: a low accuracy from it is reported, not compared."""
    result = check_training_history(_history(1, val_accuracy=[0.2] * 5), model_100, **small_data)
    assert result.score == 1, result.message
    assert "the final validation accuracy is 0.2000 (not compared with the reference band because " \
           "these differ from the lesson: split_sizes" in result.message


def test_bands_are_not_applied_when_the_model_differs_from_the_lesson(lesson_data):
    from mnist_ref.model import build_model, compile_model

    wider = compile_model(build_model(hidden_units=64))
    result = check_test_evaluation(0.2, wider, **lesson_data)
    assert result.score == 1, result.message
    assert "not compared" in result.message and "architecture" in result.message


def test_test_accuracy_is_judged_against_the_band(model_100, lesson_data):
    assert check_test_evaluation(0.97, model_100, **lesson_data).score == 1
    assert check_test_evaluation(tf.constant(0.97), model_100, **lesson_data).score == 1
    low = check_test_evaluation(0.9, model_100, **lesson_data)
    assert low.score == 0 and "the test accuracy is 0.9000; the lesson's setup reaches 0.95-0.985" \
        in low.message


def test_a_test_accuracy_that_is_not_a_number_is_named(model_100, lesson_data):
    result = check_test_evaluation("97%", model_100, **lesson_data)
    assert result.score == 0
    assert "test_accuracy is '97%'; expected a number from test_loss, test_accuracy = " \
           "model_100.evaluate(test_data)" in result.message
