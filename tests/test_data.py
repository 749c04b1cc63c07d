"""The reference pipeline: split sizes, scaling, shapes, labels, and a validation split that never leaks."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("prepared_mnist")


@pytest.fixture(scope="module")
def splits():
    from mnist_ref.data import load_splits

    return load_splits(batch_size=100)


def test_split_sizes_are_54000_6000_10000(splits):
    """10% of the 60,000 training images are held out; the test set is the full 10,000."""
    assert (splits.num_train, splits.num_validation, splits.num_test) == (54_000, 6_000, 10_000)
    assert sum(int(x.shape[0]) for x, _ in splits.train) == 54_000


def test_validation_and_test_are_single_batches_and_train_is_batched(splits):
    """As in the lesson: one batch each for validation and test; training by the batch size."""
    val = list(splits.validation)
    test = list(splits.test)
    assert len(val) == 1 and val[0][0].shape == (6_000, 28, 28, 1)
    assert len(test) == 1 and test[0][0].shape == (10_000, 28, 28, 1)
    sizes = [int(x.shape[0]) for x, _ in splits.train]
    assert len(sizes) == 540 and set(sizes) == {100}


def test_images_are_float32_in_unit_range_and_labels_are_integers(splits):
    """Pixels scaled to float32 [0, 1] (not left at 0..255); labels integer classes 0..9."""
    (x, y), = splits.validation.as_numpy_iterator()
    assert x.dtype == np.float32 and y.dtype.kind == "i"
    assert x.min() == 0.0 and x.max() == 1.0
    assert 0.1 < x.mean() < 0.15  # MNIST's mean intensity is about 0.13
    assert set(np.unique(y)) == set(range(10))


def test_reference_split_is_disjoint_and_fixed_across_epochs(splits):
    """Two epochs of the reference pipeline never train on a validation image."""
    from mnist_ref.data import measure_overlap

    report = measure_overlap(splits.train, splits.validation, epochs=2)
    assert report.validation_size == 6_000
    assert report.shared_per_epoch == [0, 0]
    assert not report.validation_changes and not report.leaky


def test_lessons_shuffle_take_skip_split_leaks_validation_into_training():
    """The lesson's shuffle/take/skip reshuffles per epoch, so training sees validation images."""
    from mnist_ref.data import load_raw, measure_overlap, scale, split_like_lesson

    datasets, _ = load_raw()
    train, validation = split_like_lesson(datasets["train"].map(scale), 6_000)
    report = measure_overlap(train.batch(100), validation.batch(6_000), epochs=2)
    assert report.leaky and report.validation_changes
    # With a 10,000-image buffer most of each epoch's validation images are trained on.
    assert report.max_fraction > 0.5
    print(f"lesson split: {report.shared_per_epoch} of {report.validation_size} shared per epoch")
