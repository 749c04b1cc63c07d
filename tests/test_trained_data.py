"""The data the runs trained on is the data the checks looked at (the judge's side, on small data).

``train_model`` records the datasets its ``fit`` used (``history.fit_data``); the kernel saves
one pass of each as image fingerprints with the history, and the judge notes on ``train_data``
each run that trained on images it does not hold, so the leak and split-size checks judge what
training really saw.  The whole path on MNIST: tests/test_forgery.py (a leak hidden behind a
second ``make_datasets`` call, against its honest twin).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from autograder.checks import check_no_validation_leak, check_split_sizes
from autograder.evidence import write
from autograder.evidence.read import load
from autograder.evidence.records import ENV_DIR, DatasetEvidence, HistoryEvidence
from autograder.judge.training_data import verify_training_data
from mnist_ref.lesson import NUM_TEST, NUM_VALIDATION

TRAIN, VALIDATION, TEST = np.arange(0, 54_000), np.arange(100_000, 106_000), np.arange(200_000, 210_000)


def _evidence(name: str, prints: np.ndarray, passes: tuple | None = None) -> DatasetEvidence:
    """A dataset's evidence: these image fingerprints in two passes (the same, unless given)."""
    epochs = [np.asarray(p, dtype=np.uint64) for p in (passes or (prints, prints))]
    return DatasetEvidence(name, {"num_examples": len(prints)}, epochs)


def _history(train: np.ndarray, validation: np.ndarray = VALIDATION) -> HistoryEvidence:
    fit = {"train": np.asarray(train, dtype=np.uint64), "validation": np.asarray(validation, dtype=np.uint64)}
    return HistoryEvidence("h", {"epochs": 5, "steps": len(train) // 100}, {"val_accuracy": [0.97]},
                           fit_data=fit)


def _judged(**histories: HistoryEvidence) -> dict:
    """The judge's namespace after verify_training_data: the checked data and these histories."""
    namespace = {"train_data": _evidence("train_data", TRAIN),
                 "validation_data": _evidence("validation_data", VALIDATION),
                 "test_data": _evidence("test_data", TEST),
                 "num_validation_samples": NUM_VALIDATION, "num_test_samples": NUM_TEST, **histories}
    verify_training_data(namespace)
    return namespace


def _checks(namespace: dict) -> tuple:
    leak = check_no_validation_leak(namespace["train_data"], namespace["validation_data"])
    sizes = check_split_sizes(*(namespace[k] for k in ("num_validation_samples", "num_test_samples",
                                                        "train_data", "validation_data", "test_data")))
    return leak, sizes


def test_runs_that_trained_on_the_checked_data_keep_every_point() -> None:
    shuffled = np.random.default_rng(0).permutation(TRAIN)  # another order, the same images
    leak, sizes = _checks(_judged(history_100=_history(shuffled), history_10000=_history(TRAIN[:50_000])))
    assert leak.score == 1 and sizes.score == 1, (leak.message, sizes.message)


def test_a_run_that_trained_on_validation_and_test_images_loses_the_leak_and_the_training_size() -> None:
    """The checked split is clean; a later make_datasets call gave fit the validation and test images too."""
    leaky = np.concatenate([TRAIN, VALIDATION, TEST])
    namespace = _judged(history_100=_history(TRAIN), history_1=_history(leaky))
    leak, sizes = _checks(namespace)
    assert namespace["train_data"].trained_outside == {"history_1": (70_000, 16_000, 6_000)}
    assert leak.points(2) == 0.5 and "history_1: 70,000 images a pass, 16,000 not in train_data, 6,000 of " \
        "them validation images" in leak.message and "make_datasets gave fit other data" in leak.message
    assert "history_100" not in leak.message
    assert "train_data holds 54,000 images, but your runs trained on more" in sizes.message
    assert sizes.points(2) < 2


def test_training_on_test_images_instead_of_some_training_images_loses_the_leak_points() -> None:
    swapped = np.concatenate([TRAIN[:44_000], TEST])  # as many images, 10,000 of them the test set's
    leak, sizes = _checks(_judged(history_100=_history(swapped)))
    assert leak.points(2) == 0.5 and "10,000 not in train_data" in leak.message
    assert sizes.score == 1, sizes.message  # the same number of images: the split sizes are right


def test_a_run_validated_on_training_images_counts_as_a_leak() -> None:
    leak, _ = _checks(_judged(history_100=_history(TRAIN, validation=TRAIN[:6_000])))
    assert leak.points(2) == 0.5 and "6,000 of them validation images" in leak.message


def test_the_lessons_leaky_split_is_charged_once_in_the_leak_cell() -> None:
    """Its validation set moves every pass: the checked data already leaks, and the size is right."""
    train = (np.arange(3_000, 57_000), np.arange(0, 54_000))  # each pass shuffles anew: the splits overlap
    validation = (np.arange(0, 6_000), np.arange(50_000, 56_000))
    namespace = {"train_data": _evidence("train_data", train[0], train),
                 "validation_data": _evidence("validation_data", validation[0], validation),
                 "test_data": _evidence("test_data", TEST),
                 "num_validation_samples": NUM_VALIDATION, "num_test_samples": NUM_TEST,
                 "history_100": _history(np.arange(6_000, 60_000), validation=np.arange(0, 6_000))}
    verify_training_data(namespace)
    leak, sizes = _checks(namespace)
    assert "shuffle() reshuffles on every iteration" in leak.message
    assert "make_datasets gave fit other data" not in leak.message and sizes.score == 1, sizes.message


def test_a_history_without_recorded_data_changes_nothing() -> None:
    history = _history(TRAIN)
    history.fit_data = None
    leak, sizes = _checks(_judged(history_100=history))
    assert leak.score == sizes.score == 1


def test_the_kernel_saves_one_pass_of_the_data_fit_used_and_the_judge_reads_it(tmp_path, monkeypatch) -> None:
    """Batched by 1 or unbatched, the fingerprints are those of the images, in one pass."""
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    images = np.random.default_rng(1).random((30, 28, 28, 1), dtype=np.float32)
    pairs = tf.data.Dataset.from_tensor_slices((images, np.arange(30) % 10))
    model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train, validation = pairs.take(20).batch(1), pairs.skip(20)  # batch size 1; validation not batched
    history = model.fit(train, validation_data=validation.batch(10), epochs=1, verbose=0)
    history.fit_data = train, validation
    write.write("history_1", history)
    loaded = load(tmp_path)["history_1"]
    assert isinstance(loaded, HistoryEvidence)
    assert loaded.fit_data["train"].tolist() == write.fingerprint_rows(images[:20])
    assert loaded.fit_data["validation"].tolist() == write.fingerprint_rows(images[20:])


@pytest.mark.parametrize("fit_data", ["not data", (1, 2)], ids=["not_a_pair", "not_datasets"])
def test_data_that_cannot_be_read_leaves_the_history_itself_intact(tmp_path, monkeypatch, fit_data) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0)
    history.fit_data = fit_data
    write.write("history_x", history)
    loaded = load(tmp_path)["history_x"]
    assert isinstance(loaded, HistoryEvidence) and loaded.fit_data is None
