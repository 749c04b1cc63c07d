"""Exercise 10's saved run is scored on what its weights do here, not on what the kernel said.

The judge rebuilds the model the saved settings describe with the reference builder, loads the
saved weights into it (plain arrays, never code) and evaluates it itself: on MNIST's test set,
and on the notebook's own validation images, found among MNIST's training images by the
fingerprints the kernel saved of ``validation_data``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from autograder.evidence.records import DatasetEvidence, SavedRun
from autograder.judge.reference import PREDICT_BATCH, accuracies

VALIDATION = "validation_data"  # the notebook variable whose images the saved run validated on


@lru_cache(maxsize=1)
def training_images() -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """MNIST's training images scaled as the lesson scales them, their labels, and fingerprint -> row."""
    from autograder.evidence.write import fingerprint_rows
    from mnist_ref import decoded_cache
    from mnist_ref.offline_data import prepared_dataset_dir

    decoded = decoded_cache.load(prepared_dataset_dir())
    images = decoded.x_train.astype(np.float32) / np.float32(255.0)
    return images, decoded.y_train, {p: i for i, p in enumerate(fingerprint_rows(images))}


def validation_images(evidence: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The notebook's validation images and labels, when they are the same in both passes and all
    their fingerprints are lesson-scaled MNIST's; None otherwise."""
    if not isinstance(evidence, DatasetEvidence) or not evidence.epochs:
        return None
    if len(evidence.epochs) > 1 and set(evidence.epochs[0].tolist()) != set(evidence.epochs[1].tolist()):
        return None  # a validation set that changes every pass (the lesson's split): no one set to score on
    images, labels, rows = training_images()
    found = [rows.get(int(p)) for p in evidence.epochs[0]]
    if not found or any(i is None for i in found):
        return None  # scaled some other way: the check refuses to take the history's word for it
    index = np.asarray(found)
    return images[index], labels[index]


def accuracy_on(model: Any, images: np.ndarray, labels: np.ndarray) -> float:
    """The model's accuracy on these images (its own argmax), by direct calls."""
    predicted = np.concatenate([np.asarray(model(images[i:i + PREDICT_BATCH], training=False)).argmax(axis=-1)
                                for i in range(0, len(images), PREDICT_BATCH)])
    return float((predicted == labels).mean())


def verify_saved_runs(namespace: dict[str, Any]) -> None:
    """Set each saved run's test and validation accuracy to the judge's own (None where it cannot tell,
    which the check refuses with a message)."""
    from mnist_ref.model import model_with_weights

    for run in (v for v in namespace.values() if isinstance(v, SavedRun)):
        run.test_accuracy = run.validation_accuracy = None
        try:
            model = model_with_weights(run.widths, run.activations, run.weights)
        except (ValueError, TypeError):
            continue
        run.test_accuracy = accuracies(model)[0]  # the scaled test images, as the notebook trains
        validation = validation_images(namespace.get(VALIDATION))
        if validation is not None:
            run.validation_accuracy = accuracy_on(model, *validation)
