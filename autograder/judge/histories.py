"""A history counts only as the record of its own model's training, checked against that model.

The kernel saves each History with the model that ``fit`` trained (``History.model``).  Here a
history is refused, and its checks earn nothing, when

* no trained model came with it (a History made by hand);
* its per-epoch updates do not fit its steps per epoch;
* its model's optimizer did not take exactly the updates the history records (a history
  pointing at another run's model, or a model trained again afterwards);
* another history that claims another run (batch size, updates, learning rate) came with the
  same trained weights (one model standing for two runs);
* its final validation accuracy is not what its model scores on the notebook's own validation
  images (within 0.001; found among MNIST's training images by their fingerprints), or, where
  those cannot be found or change from pass to pass (the lesson's leaky split, charged in its
  own cell), within 0.05 of what it scores on MNIST's test set.

A history that passes carries its trained model (``HistoryEvidence.model``, as Keras's
``History.model``), so a check can tell whether it is the record of the model it is given.
"""

from __future__ import annotations

from typing import Any

from autograder.evidence.read import TRAINED_MODEL_SUFFIX
from autograder.evidence.records import HistoryEvidence, MissingEvidence
from autograder.judge.reference import accuracies, weights_digest
from autograder.judge.saved_runs import VALIDATION, accuracy_on, validation_images

VALIDATION_TOLERANCE = 0.05  # validation and test accuracy of one model differ by far less
EXACT_TOLERANCE = 0.001  # the same weights on the same images: float noise only (6 of 6,000 images)
NOT_TRAINED = "was not produced by training: "


def recorded_updates(history: HistoryEvidence) -> tuple[int | None, str | None]:
    """The optimizer updates a history records in all, or why its records do not add up."""
    logs, steps = history.history, history.params.get("steps")
    epochs = len(logs.get("loss") or logs.get("val_accuracy") or [])
    updates = logs.get("updates")
    if not steps or not epochs:
        return None, "it records no epochs or no steps per epoch"
    if not updates:  # fit without the notebook's budget callback: every epoch complete
        return int(steps) * epochs, None
    whole = [int(u or 0) for u in updates]
    if len(whole) != epochs or any(u != steps for u in whole[:-1]) or not 0 < whole[-1] <= steps:
        return None, f"its updates per epoch {whole[:6]} do not fit its {steps} steps per epoch"
    return sum(whole), None


def optimizer_updates(model: Any) -> int | None:
    """How many updates the model's optimizer took (saved with the model), or None if unknown."""
    optimizer = getattr(model, "optimizer", None)
    iterations = getattr(optimizer, "iterations", None)
    try:
        return int(iterations)
    except (TypeError, ValueError):
        return None


def learning_rate(model: Any) -> float | None:
    """The learning rate the model was compiled with, or None if it cannot be read."""
    try:
        return round(float(model.optimizer.learning_rate), 12)
    except (AttributeError, TypeError, ValueError):
        return None


def _run_shape(history: HistoryEvidence, model: Any) -> tuple:
    """What distinguishes one run from another: steps and updates per epoch, and the learning rate."""
    return history.params.get("steps"), tuple(history.history.get("updates") or ()), learning_rate(model)


def _problem(history: HistoryEvidence, model: Any, validation: tuple | None) -> str | None:
    """Why ``history`` is not the record of ``model``'s training, or None when it is."""
    if model is None:
        return (NOT_TRAINED + "no trained model came with it (a History made by hand earns nothing); "
                "expected the History that train_model (model.fit) returns")
    if isinstance(model, MissingEvidence):
        return f"came with a trained model that {model.reason}"
    claimed, inconsistent = recorded_updates(history)
    if inconsistent:
        return NOT_TRAINED + inconsistent
    taken = optimizer_updates(model)
    if taken is None:
        return ("came with a model whose optimizer state could not be read, so its training cannot be "
                "verified")
    if taken != claimed:
        return (NOT_TRAINED + f"its model's optimizer took {taken:,} updates, but the history records "
                f"{claimed:,}; expected the History that fit returned with its own model, trained once")
    final = (history.history.get("val_accuracy") or [None])[-1]
    if final is not None and validation is not None:
        scored = accuracy_on(model, *validation[:2])
        if abs(scored - final) > EXACT_TOLERANCE:
            return (NOT_TRAINED + f"its final val_accuracy {final:.4f} is not what the model it trained "
                    f"scores on your validation images ({scored:.4f}); expected the History that "
                    "model.fit returned, as it returned it")
    elif final is not None:
        scores = accuracies(model)
        if min(abs(s - final) for s in scores) > VALIDATION_TOLERANCE:
            return (NOT_TRAINED + f"its final val_accuracy {final:.4f} does not match the model it trained "
                    f"(that model scores {max(scores):.4f} on the test set); expected a History from "
                    "model.fit")
    return None


def verify_histories(namespace: dict[str, Any]) -> None:
    """Replace every history that is not its own model's training record with MissingEvidence.

    The trained models (``NAME.model`` entries) are removed from ``namespace`` afterwards; each
    verified history carries its own as ``model``.
    """
    histories = {name: value for name, value in namespace.items() if isinstance(value, HistoryEvidence)}
    models = {name: namespace.get(name + TRAINED_MODEL_SUFFIX) for name in histories}
    validation = validation_images(namespace.get(VALIDATION)) if histories else None
    problems = {name: _problem(histories[name], models[name], validation) for name in histories}
    owners: dict[str, list[str]] = {}
    for name, model in models.items():
        if problems[name] is None:
            owners.setdefault(weights_digest(model), []).append(name)
    for names in owners.values():
        # Two runs of one configuration train the same weights (seeded, deterministic ops): fine.
        # The same weights behind runs that claim different batch sizes or lengths: one model
        # standing for two runs, and there is no telling which one it really is.
        if len({_run_shape(histories[name], models[name]) for name in names}) > 1:
            for name in names:
                others = ", ".join(n for n in names if n != name)
                problems[name] = (NOT_TRAINED + f"it came with the same trained model as {others}, "
                                  "which claims another run; one model cannot stand for two runs")
    for name, problem in problems.items():
        if problem is not None:
            namespace[name] = MissingEvidence(name, problem)
        else:
            histories[name].model = models[name]
    for key in [k for k in namespace if k.endswith(TRAINED_MODEL_SUFFIX)]:
        namespace.pop(key)
