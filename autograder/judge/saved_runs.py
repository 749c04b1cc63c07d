"""Exercise 10's saved run is scored on what its weights do here, not on what the kernel said.

The judge rebuilds the model the saved settings describe with the reference builder, loads the
saved weights into it (plain arrays, never code) and evaluates it itself: on MNIST's test set,
and on the notebook's own validation images, found among MNIST's training images by the
fingerprints the kernel saved of ``validation_data`` (scaled to [0, 1] or not).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from autograder.evidence.records import DatasetEvidence, SavedRun
from autograder.judge.reference import PREDICT_BATCH, accuracies

VALIDATION = "validation_data"  # the notebook variable whose images the saved run validated on


@lru_cache(maxsize=1)
def training_images() -> tuple[np.ndarray, np.ndarray, dict[int, tuple[int, bool]]]:
    """MNIST's training images as float32 0-255, their labels, and fingerprint -> (row, scaled to [0, 1]).

    Both scalings are known: a pipeline that skips scaling (charged in its own cell) still has
    its validation images found, so its runs are verified the same way.
    """
    from autograder.evidence.write import fingerprint_rows
    from mnist_ref import decoded_cache
    from mnist_ref.offline_data import require_prepared

    decoded = decoded_cache.load(require_prepared())  # never a download: no network here
    raw = decoded.x_train.astype(np.float32)
    rows = {p: (i, False) for i, p in enumerate(fingerprint_rows(raw))}
    rows.update({p: (i, True) for i, p in enumerate(fingerprint_rows(raw / np.float32(255.0)))})
    return raw, decoded.y_train, rows


def validation_images(evidence: Any) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """The notebook's validation images, labels and whether they are scaled to [0, 1], when they are
    the same in both passes and all of them are MNIST's training images in one scaling; else None."""
    if not isinstance(evidence, DatasetEvidence) or not evidence.epochs:
        return None
    if len(evidence.epochs) > 1 and set(evidence.epochs[0].tolist()) != set(evidence.epochs[1].tolist()):
        return None  # a validation set that changes every pass (the lesson's split): no one set to score on
    raw, labels, rows = training_images()
    found = [rows.get(int(p)) for p in evidence.epochs[0]]
    if not found or any(f is None for f in found) or len({scaled for _, scaled in found}) > 1:
        return None  # scaled some other way: the check refuses to take the history's word for it
    index, scaled = np.asarray([i for i, _ in found]), found[0][1]
    images = raw[index] / np.float32(255.0) if scaled else raw[index]
    return images, labels[index], scaled


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
        validation = validation_images(namespace.get(VALIDATION))
        scaled = validation is None or validation[2]  # the test images scaled as the notebook scales
        run.test_accuracy = accuracies(model)[0 if scaled else 1]
        if validation is not None:
            run.validation_accuracy = accuracy_on(model, *validation[:2])
