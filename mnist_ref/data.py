"""Loading, scaling, splitting and batching MNIST as in the lesson, without its validation leak.

The lesson splits with ``shuffled = data.shuffle(BUFFER); validation = shuffled.take(n);
train = shuffled.skip(n)``.  ``shuffle`` draws a new order on every iteration, so each epoch's
training stream holds most of the validation images (tensorflow/tensorflow#59279).  Here the
split is drawn once, with a seed, and stays fixed: training and validation are disjoint in
every epoch.  :func:`measure_overlap` shows the difference.

For speed the reference decodes and scales every image once, keeps the splits in memory
(:func:`load_arrays`) and batches by gathering rows: the same images, labels, split sizes,
shuffle buffer and batches as a per-image ``map`` pipeline, at a fraction of the cost per step.
The decoded images come from a cache beside the prepared dataset (:mod:`mnist_ref.decoded_cache`),
so only the first process decodes the PNG files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from mnist_ref import decoded_cache
from mnist_ref.lesson import BATCH_SIZE, BUFFER_SIZE, VALIDATION_FRACTION
from mnist_ref.offline_data import prepared_dataset_dir

if TYPE_CHECKING:
    import tensorflow_datasets as tfds

SPLIT_SEED = 20_260_101


@dataclass
class MnistSplits:
    """The three datasets the lesson trains, validates and tests on, and their sizes."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    num_train: int
    num_validation: int
    num_test: int
    batch_size: int
    arrays: MnistArrays | None = None


@dataclass(frozen=True)
class MnistArrays:
    """The three splits as in-memory tensors: images float32 (N, 28, 28, 1) in [0, 1], int64 labels."""

    x_train: tf.Tensor
    y_train: tf.Tensor
    x_validation: tf.Tensor
    y_validation: tf.Tensor
    x_test: tf.Tensor
    y_test: tf.Tensor

    @property
    def num_train(self) -> int:
        return int(self.x_train.shape[0])


def scale(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 pixels in [0, 255] -> float32 in [0, 1]; labels unchanged."""
    return tf.cast(image, tf.float32) / 255.0, label


def load_raw() -> tuple[dict[str, tf.data.Dataset], tfds.core.DatasetInfo]:
    """TFDS's ``mnist`` as (image, label) pairs, with its info (split sizes)."""
    import tensorflow_datasets as tfds

    return tfds.load("mnist", with_info=True, as_supervised=True)


def decoded_splits() -> dict[str, tf.data.Dataset] | None:
    """TFDS ``mnist``'s train and test splits as ``tfds.load(..., as_supervised=True)`` yields them
    (uint8 images, int64 labels, in TFDS's order), built from the decoded-array cache; None without one.
    """
    decoded = decoded_cache.load_if_cached(prepared_dataset_dir())
    if decoded is None:
        return None
    return {"train": tf.data.Dataset.from_tensor_slices((decoded.x_train, decoded.y_train)),
            "test": tf.data.Dataset.from_tensor_slices((decoded.x_test, decoded.y_test))}


def num_validation_examples(num_train_full: int, fraction: float = VALIDATION_FRACTION) -> int:
    """Size of the validation split: ``fraction`` of the training set, as an integer."""
    return int(round(fraction * num_train_full))


def split_like_lesson(
    train_full: tf.data.Dataset, num_validation: int, buffer_size: int = BUFFER_SIZE
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The lesson's split, kept to demonstrate its leak: it reshuffles on every iteration."""
    shuffled = train_full.shuffle(buffer_size)
    return shuffled.skip(num_validation), shuffled.take(num_validation)


@lru_cache(maxsize=2)
def load_arrays(validation_fraction: float = VALIDATION_FRACTION, seed: int = SPLIT_SEED) -> MnistArrays:
    """Scale all 70,000 images once and split them in memory; cached per process.

    The decoded images are read from :mod:`mnist_ref.decoded_cache` (bit for bit what
    ``tfds.load(..., batch_size=-1)`` returns).  The validation images are a fixed, seeded
    draw (NumPy, independent of TensorFlow's global seed), so every run and every batch size
    validates on the same images.
    """
    decoded = decoded_cache.load(prepared_dataset_dir())
    x_full, y_full = tf.constant(decoded.x_train), tf.constant(decoded.y_train)
    x_test, y_test = tf.constant(decoded.x_test), tf.constant(decoded.y_test)
    num_validation = num_validation_examples(int(x_full.shape[0]), validation_fraction)
    order = np.random.default_rng(seed).permutation(int(x_full.shape[0]))
    validation_rows, train_rows = order[:num_validation], order[num_validation:]
    x_full, y_full = scale(x_full, y_full)
    x_test, y_test = scale(x_test, y_test)
    return MnistArrays(
        x_train=tf.gather(x_full, train_rows),
        y_train=tf.gather(y_full, train_rows),
        x_validation=tf.gather(x_full, validation_rows),
        y_validation=tf.gather(y_full, validation_rows),
        x_test=x_test,
        y_test=y_test,
    )


def shuffled_indices(num_train: int, seed: int = SPLIT_SEED) -> tf.data.Dataset:
    """Training-row indices in the lesson's order: a 10,000-element shuffle buffer, new each epoch."""
    return tf.data.Dataset.range(num_train).shuffle(BUFFER_SIZE, seed=seed, reshuffle_each_iteration=True)


def training_batches(arrays: MnistArrays, batch_size: int, seed: int = SPLIT_SEED) -> tf.data.Dataset:
    """Shuffled training batches, gathered from memory one batch at a time (no per-image work)."""
    x, y = arrays.x_train, arrays.y_train
    return (
        shuffled_indices(arrays.num_train, seed)
        .batch(batch_size)
        .map(lambda rows: (tf.gather(x, rows), tf.gather(y, rows)), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def load_splits(
    batch_size: int = BATCH_SIZE,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
) -> MnistSplits:
    """The reference pipeline: scaled once, split without leak, in memory, batched, prefetched.

    Training is reshuffled every epoch within its own split and batched by ``batch_size``;
    validation and test are each a single batch, as in the lesson.
    """
    arrays = load_arrays(validation_fraction, seed)
    validation = tf.data.Dataset.from_tensors((arrays.x_validation, arrays.y_validation))
    test = tf.data.Dataset.from_tensors((arrays.x_test, arrays.y_test))
    return MnistSplits(
        train=training_batches(arrays, batch_size, seed),
        validation=validation,
        test=test,
        num_train=arrays.num_train,
        num_validation=int(arrays.x_validation.shape[0]),
        num_test=int(arrays.x_test.shape[0]),
        batch_size=batch_size,
        arrays=arrays,
    )


@dataclass
class SplitOverlap:
    """How many validation images also appear in the training stream, epoch by epoch."""

    validation_size: int
    shared_per_epoch: list[int]
    validation_changes: bool

    @property
    def leaky(self) -> bool:
        """True when any epoch trains on a validation image."""
        return any(self.shared_per_epoch)

    @property
    def max_fraction(self) -> float:
        """The worst epoch's shared images, as a fraction of the validation set."""
        return max(self.shared_per_epoch, default=0) / max(self.validation_size, 1)


def _fingerprints(dataset: tf.data.Dataset) -> list[bytes]:
    """One fingerprint per image (its raw bytes), batched or not, in stream order."""
    images = dataset.map(lambda image, *_: image)
    batched = len(images.element_spec.shape) == 4
    if not batched:
        images = images.batch(8192)
    prints: list[bytes] = []
    for batch in images.as_numpy_iterator():
        rows = np.ascontiguousarray(batch).reshape(len(batch), -1)
        prints.extend(row.tobytes() for row in rows)
    return prints


def measure_overlap(
    train: tf.data.Dataset, validation: tf.data.Dataset, epochs: int = 2
) -> SplitOverlap:
    """Iterate both splits ``epochs`` times, as Keras does, and count shared images per epoch.

    MNIST's 60,000 training images are pairwise distinct, so equal bytes mean the same image.
    """
    shared: list[int] = []
    validation_sets: list[frozenset[bytes]] = []
    for _ in range(epochs):
        val = frozenset(_fingerprints(validation))
        validation_sets.append(val)
        shared.append(len(val.intersection(_fingerprints(train))))
    changes = any(v != validation_sets[0] for v in validation_sets[1:])
    return SplitOverlap(len(validation_sets[0]), shared, changes)
