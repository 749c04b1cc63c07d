"""MNIST's test split, read once per judge process, and what a model scores on it."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

PREDICT_BATCH = 2_000  # images per forward pass: bounded memory for any model a student saved


@lru_cache(maxsize=1)
def test_sets() -> tuple[tuple[Any, Any], ...]:
    """MNIST's test images scaled to [0, 1], and unscaled (0-255) for pipelines that skip scaling.

    Read from the prepared dataset's decoded-array cache (the images ``tfds.load`` decodes).
    """
    import numpy as np

    from mnist_ref import decoded_cache
    from mnist_ref.offline_data import require_prepared

    decoded = decoded_cache.load(require_prepared())  # never a download: no network here
    images, labels = decoded.x_test.astype(np.float32), decoded.y_test
    return (images / 255.0, labels), (images, labels)


def _predicted_classes(model: Any, images: Any) -> Any:
    """The model's argmax class for each image, by direct calls (no ``predict`` loop to build)."""
    import numpy as np

    return np.concatenate([np.asarray(model(images[i:i + PREDICT_BATCH], training=False)).argmax(axis=-1)
                           for i in range(0, len(images), PREDICT_BATCH)])


def weights_digest(model: Any) -> str:
    """A fingerprint of a model's trained weights."""
    digest = hashlib.blake2b(digest_size=16)
    for weights in model.get_weights():
        digest.update(weights.tobytes())
    return digest.hexdigest()


_scores: dict[tuple[str, str], list[float]] = {}


def accuracies(model: Any) -> list[float]:
    """The model's accuracy on the scaled and on the unscaled test images (its own argmax).

    Computed once per set of weights: a history's model and ``model_100`` are often the same.
    """
    key = (weights_digest(model), model.to_json())
    if key not in _scores:
        _scores[key] = [float((_predicted_classes(model, images) == labels).mean())
                        for images, labels in test_sets()]
    return list(_scores[key])
