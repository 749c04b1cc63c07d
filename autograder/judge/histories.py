"""A history counts only if the model it trained reproduces its final validation accuracy."""

from __future__ import annotations

from typing import Any

from autograder.evidence.read import TRAINED_MODEL_SUFFIX
from autograder.evidence.records import MissingEvidence

HISTORY_TOLERANCE = 0.05


def _reference_test_sets() -> list[tuple[Any, Any]]:
    """MNIST's test images scaled to [0, 1], and unscaled (0-255) for pipelines that skip scaling."""
    import numpy as np
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(tfds.load("mnist", split="test", as_supervised=True, batch_size=-1))
    images = images.astype(np.float32)
    return [(images / 255.0, labels), (images, labels)]


def verify_histories(namespace: dict[str, Any]) -> None:
    """Replace any history whose final validation accuracy its own trained model cannot reproduce.

    Trained models (``NAME.model`` entries) are removed from ``namespace`` afterwards: grade
    cells never see them.
    """
    pairs = [(name, name + TRAINED_MODEL_SUFFIX) for name in namespace
             if name + TRAINED_MODEL_SUFFIX in namespace]
    test_sets = _reference_test_sets() if pairs else []
    for name, model_key in pairs:
        history, model = namespace[name], namespace.pop(model_key)
        if isinstance(history, MissingEvidence) or isinstance(model, MissingEvidence):
            continue
        claimed = (history.history.get("val_accuracy") or [None])[-1]
        if claimed is None:
            continue
        scores = []
        for images, labels in test_sets:
            predictions = model.predict(images, batch_size=2_000, verbose=0)
            scores.append(float((predictions.argmax(axis=-1) == labels).mean()))
        if min(abs(s - claimed) for s in scores) > HISTORY_TOLERANCE:
            namespace[name] = MissingEvidence(
                name, f"its final val_accuracy {claimed:.4f} does not match the model it trained "
                f"(that model scores {max(scores):.4f} on the test set); expected a History from model.fit")
    for key in [k for k in namespace if k.endswith(TRAINED_MODEL_SUFFIX)]:
        namespace.pop(key)
