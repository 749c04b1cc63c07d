"""MNIST's test split, read once per judge process, and what a model scores on it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def test_sets() -> tuple[tuple[Any, Any], ...]:
    """MNIST's test images scaled to [0, 1], and unscaled (0-255) for pipelines that skip scaling."""
    import numpy as np
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(tfds.load("mnist", split="test", as_supervised=True, batch_size=-1))
    images = images.astype(np.float32)
    return (images / 255.0, labels), (images, labels)


def accuracies(model: Any) -> list[float]:
    """The model's accuracy on the scaled and on the unscaled test images (its own argmax)."""
    scores = []
    for images, labels in test_sets():
        predictions = model.predict(images, batch_size=2_000, verbose=0)
        scores.append(float((predictions.argmax(axis=-1) == labels).mean()))
    return scores
