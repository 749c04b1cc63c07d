"""Loading, scaling, splitting and batching MNIST as in the lesson, without its validation leak.

The lesson splits with ``shuffled = data.shuffle(BUFFER); validation = shuffled.take(n);
train = shuffled.skip(n)``.  ``shuffle`` draws a new order on every iteration, so each epoch's
training stream holds most of the validation images (tensorflow/tensorflow#59279).  Here the
split is drawn once, with a seed, and stays fixed: training and validation are disjoint in
every epoch.  :func:`measure_overlap` shows the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

VALIDATION_FRACTION = 0.1
BUFFER_SIZE = 10_000
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


def scale(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 pixels in [0, 255] -> float32 in [0, 1]; labels unchanged."""
    return tf.cast(image, tf.float32) / 255.0, label


def load_raw() -> tuple[dict[str, tf.data.Dataset], tfds.core.DatasetInfo]:
    """TFDS's ``mnist`` as (image, label) pairs, with its info (split sizes)."""
    return tfds.load("mnist", with_info=True, as_supervised=True)


def num_validation_examples(num_train_full: int, fraction: float = VALIDATION_FRACTION) -> int:
    """Size of the validation split: ``fraction`` of the training set, as an integer."""
    return int(round(fraction * num_train_full))


def split_fixed(
    train_full: tf.data.Dataset, num_validation: int, seed: int = SPLIT_SEED
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Split once, reproducibly: the same validation images in every epoch, never trained on."""
    shuffled = train_full.shuffle(
        train_full.cardinality(), seed=seed, reshuffle_each_iteration=False
    )
    return shuffled.skip(num_validation), shuffled.take(num_validation)


def split_like_lesson(
    train_full: tf.data.Dataset, num_validation: int, buffer_size: int = BUFFER_SIZE
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The lesson's split, kept to demonstrate its leak: it reshuffles on every iteration."""
    shuffled = train_full.shuffle(buffer_size)
    return shuffled.skip(num_validation), shuffled.take(num_validation)


def load_splits(
    batch_size: int = 100,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
) -> MnistSplits:
    """The reference pipeline: scaled, split without leak, cached, batched, prefetched.

    Training is reshuffled every epoch within its own split and batched by ``batch_size``;
    validation and test are each a single batch, as in the lesson.
    """
    datasets, info = load_raw()
    num_train_full = info.splits["train"].num_examples
    num_test = info.splits["test"].num_examples
    num_validation = num_validation_examples(num_train_full, validation_fraction)
    num_train = num_train_full - num_validation

    scaled = datasets["train"].map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    train, validation = split_fixed(scaled, num_validation, seed)
    train = (
        train.cache()
        .shuffle(BUFFER_SIZE, seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation = validation.cache().batch(num_validation)
    test = datasets["test"].map(scale, num_parallel_calls=tf.data.AUTOTUNE).cache().batch(num_test)
    return MnistSplits(train, validation, test, num_train, num_validation, num_test, batch_size)


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
    if len(images.element_spec.shape) == 4:  # already batched
        images = images.unbatch()
    prints: list[bytes] = []
    for batch in images.batch(8192).as_numpy_iterator():
        prints.extend(np.ascontiguousarray(row).tobytes() for row in batch)
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
