"""The data checks on small datasets made in the test: split sizes, scaling, shapes, the leak, batching."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from autograder.checks import (
    check_batching,
    check_no_validation_leak,
    check_scaling,
    check_shapes_and_labels,
    check_split_sizes,
)


def _images(n: int, seed: int = 0) -> np.ndarray:
    """``n`` random uint8 images 28x28x1, pairwise distinct (as MNIST's are)."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28, 1), dtype=np.uint8)


def _labels(n: int) -> np.ndarray:
    """Integer labels cycling through all ten digits."""
    return np.arange(n, dtype=np.int64) % 10


def _pairs(images: np.ndarray, labels: np.ndarray | None = None) -> tf.data.Dataset:
    """(image, label) elements, one image at a time."""
    return tf.data.Dataset.from_tensor_slices((images, _labels(len(images)) if labels is None else labels))


def _scaled(n: int, seed: int = 0) -> tf.data.Dataset:
    """Images as float32 in [0, 1], as the lesson's ``scale`` makes them."""
    return _pairs(_images(n, seed).astype(np.float32) / 255.0)


def _three(make) -> dict[str, tf.data.Dataset]:
    """train/validation/test datasets from ``make(n, seed)``, small and distinct."""
    return {"train_data": make(54, 1), "validation_data": make(20, 2), "test_data": make(20, 3)}


def _one_batch(n: int, dtype=np.float32) -> tf.data.Dataset:
    """``n`` tiny images in a single batch: counts like the lesson's splits, iterated at once."""
    return tf.data.Dataset.from_tensors((np.full((n, 1, 1, 1), 0.75, dtype=dtype), _labels(n)))


# ------------------------------------------------------------------ split sizes


def test_split_sizes_of_the_lesson_pass_whatever_the_number_type():
    """6,000 / 10,000 given as int, float or tf.Tensor, with datasets of 54,000 / 6,000 / 10,000."""
    data = {"train_data": _one_batch(54_000), "validation_data": _one_batch(6_000),
            "test_data": _one_batch(10_000)}
    for n_val, n_test in [(6_000, 10_000), (0.1 * 60_000, 10_000.0),
                          (tf.cast(6_000.0, tf.int64), tf.constant(10_000, tf.int64))]:
        result = check_split_sizes(n_val, n_test, **data)
        assert result.score == 1, result.message


def test_wrong_split_sizes_are_named_with_the_expected_count():
    """A 1% validation split and small datasets: each wrong size says what was expected."""
    result = check_split_sizes(600, 10_000, **_three(_scaled))
    assert result.score == pytest.approx(1 / 8)  # only num_test_samples (a quarter of 2 points) is right
    assert "num_validation_samples is 600; expected 6,000" in result.message
    assert "validation_data holds 20 images; expected 6,000" in result.message
    assert "train_data holds 54 images; expected 54,000" in result.message
    assert "test_data holds 20 images; expected 10,000" in result.message


# ------------------------------------------------------------------ scaling


def test_float32_pixels_in_unit_range_pass_scaling():
    result = check_scaling(**_three(_scaled))
    assert result.score == 1, result.message


def test_unscaled_uint8_pixels_fail_scaling_and_say_divide_by_255():
    result = check_scaling(**_three(lambda n, seed: _pairs(_images(n, seed))))
    assert result.score == 0
    assert "train_data images are uint8" in result.message and "expected float32" in result.message
    assert "range from 0.0 to 255.0; expected 0.0 to 1.0 (divide by 255.)" in result.message


def test_float_pixels_left_at_0_to_255_fail_only_the_range_part():
    """tf.cast without the division: the dtype part passes, the range part says divide by 255."""
    result = check_scaling(**_three(lambda n, seed: _pairs(_images(n, seed).astype(np.float32))))
    assert 0 < result.score < 1
    assert "divide by 255." in result.message and "twice" not in result.message


def test_pixels_divided_by_255_twice_are_named():
    result = check_scaling(**_three(lambda n, seed: _pairs(_images(n, seed).astype(np.float32) / 255**2)))
    assert result.score < 1
    assert "did you divide by 255 twice?" in result.message


def test_scaling_of_tfds_mnist_mock_data_fails_raw_and_passes_after_the_lessons_map(mock_mnist):
    """tfds.load('mnist') (TFDS's mock data here): raw uint8 fails, .map(scale) passes."""
    import tensorflow_datasets as tfds

    from mnist_ref.data import scale

    train, test = tfds.load("mnist", split=["train", "test"], as_supervised=True)
    raw = check_scaling(train.skip(6), train.take(6), test)
    assert raw.score == 0 and "divide by 255" in raw.message
    scaled = check_scaling(train.skip(6).map(scale), train.take(6).map(scale), test.map(scale))
    assert scaled.score == 1, scaled.message


# ------------------------------------------------------------------ shapes and labels


def test_28x28x1_images_with_integer_labels_0_to_9_pass():
    result = check_shapes_and_labels(**_three(_scaled))
    assert result.score == 1, result.message


def test_images_without_the_channel_axis_are_rejected_with_the_expected_shape():
    result = check_shapes_and_labels(**_three(lambda n, seed: _pairs(_images(n, seed)[..., 0])))
    assert result.score == 0.5
    assert "train_data images have shape [28, 28]" in result.message
    assert "expected [28, 28, 1]" in result.message


def test_one_hot_labels_are_rejected_as_not_integer_classes():
    def one_hot(n, seed):
        return _pairs(_images(n, seed), np.eye(10, dtype=np.float32)[_labels(n)])

    result = check_shapes_and_labels(**_three(one_hot))
    assert result.score == 0.5
    assert "labels are float32 with values [0, 1]" in result.message
    assert "expected integer class labels 0-9" in result.message


# ------------------------------------------------------------------ validation leak


def _train_and_validation(reshuffle: bool) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Half of 100 images held out for validation after one shuffle, as the lesson splits."""
    data = _scaled(100)
    if reshuffle:  # the lesson's code: shuffle(buffer) draws a new order on every iteration
        shuffled = data.shuffle(100)
    else:
        shuffled = data.shuffle(100, seed=7, reshuffle_each_iteration=False)
    return shuffled.skip(50).batch(10), shuffled.take(50).batch(50)


def test_lessons_reshuffling_take_skip_split_leaks_and_fails():
    """shuffle(buffer) then take/skip: each epoch trains on validation images; the check says why."""
    train, validation = _train_and_validation(reshuffle=True)
    result = check_no_validation_leak(train, validation)
    assert result.score == 0
    assert "validation images also appear in the training data" in result.message
    assert "reshuffle_each_iteration=False" in result.message
    assert "the validation set changes from one epoch to the next" in result.message


def test_a_split_shuffled_once_with_a_seed_stays_disjoint_and_passes():
    train, validation = _train_and_validation(reshuffle=False)
    result = check_no_validation_leak(train, validation)
    assert result.score == 1, result.message


# ------------------------------------------------------------------ batching


def _batched(train_batch: int, validation_batch: int = 20, test_batch: int = 20) -> dict:
    data = _three(_scaled)
    return {"train_data": data["train_data"].batch(train_batch),
            "validation_data": data["validation_data"].batch(validation_batch),
            "test_data": data["test_data"].batch(test_batch)}


def test_training_in_batches_of_the_batch_size_and_single_batch_evaluation_pass():
    """54 images in batches of 10 (the last one short) pass for batch_size=10."""
    result = check_batching(**_batched(10), batch_size=10)
    assert result.score == 1, result.message


def test_training_batched_by_another_size_is_named_with_the_expected_one():
    result = check_batching(**_batched(32), batch_size=10)
    assert result.score == pytest.approx(2 / 4)  # the train part weighs 2 of 4
    assert "train_data batches have sizes [22, 32]; expected 10" in result.message


def test_unbatched_training_and_validation_in_several_batches_are_rejected():
    data = _three(_scaled)
    result = check_batching(data["train_data"], data["validation_data"].batch(10),
                            data["test_data"], batch_size=100)
    assert result.score == 0
    assert "train_data batches have sizes none (not batched)" in result.message
    assert "validation_data is in 2 batches; expected one batch of all its images" in result.message
    assert "test_data is not batched" in result.message
