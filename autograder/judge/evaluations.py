"""A test accuracy counts only if it is what its model really scores on MNIST's test set.

The notebook asks for ``test_loss, test_accuracy = model_100.evaluate(test_data)``; the judge
evaluates the saved ``model_100`` itself and refuses a number the model does not reproduce.
"""

from __future__ import annotations

from typing import Any

from autograder.evidence.facts import as_number
from autograder.evidence.records import MissingEvidence
from autograder.judge.reference import accuracies

EVALUATED_BY = {"test_accuracy": "model_100"}  # a number the notebook reports -> the model it evaluates
EVALUATION_TOLERANCE = 0.0003  # 3 of 10,000 test images: float noise of another batching, no more


def verify_evaluations(namespace: dict[str, Any]) -> None:
    """Replace each reported accuracy its model does not reproduce with MissingEvidence."""
    for name, model_name in EVALUATED_BY.items():
        claimed = as_number(namespace.get(name)) if name in namespace else None
        if claimed is None:  # absent or not a number: the check itself says so
            continue
        model = namespace.get(model_name)
        if model is None or isinstance(model, MissingEvidence) or not hasattr(model, "predict"):
            namespace[name] = MissingEvidence(
                name, f"cannot be checked without {model_name}, the model it should come from")
            continue
        scores = accuracies(model)
        if min(abs(s - claimed) for s in scores) > EVALUATION_TOLERANCE:
            namespace[name] = MissingEvidence(
                name, f"is {claimed:.4f}, not what {model_name} scores on the test set "
                f"({max(scores):.4f}); expected the number {model_name}.evaluate(test_data) returns")
