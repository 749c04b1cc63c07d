"""The data the runs trained on is the data the notebook's checks looked at.

``train_model`` records the datasets its ``fit`` trained and validated on (``history.fit_data``),
and the kernel saves one pass of each, as image fingerprints, with the history.  A run that
trained on images the checked ``train_data`` does not hold (validation or test images added by a
later call of ``make_datasets``, say) is noted on ``train_data``, so the leak check sees the data
training really used, not only the datasets it was shown.
"""

from __future__ import annotations

from typing import Any

from autograder.evidence.records import DatasetEvidence, HistoryEvidence

TRAIN, VALIDATION = "train_data", "validation_data"  # the notebook variables the data checks read


def _all_passes(dataset: Any) -> set[int]:
    """Every image fingerprint in the saved passes of a dataset's evidence (empty for anything else)."""
    if not isinstance(dataset, DatasetEvidence):
        return set()
    return set().union(*(set(epoch.tolist()) for epoch in dataset.epochs))


def verify_training_data(namespace: dict[str, Any]) -> None:
    """Note on the checked ``train_data`` each run whose fit trained on images it does not hold."""
    train = namespace.get(TRAIN)
    if not isinstance(train, DatasetEvidence) or not train.epochs:
        return
    checked, validation = _all_passes(train), _all_passes(namespace.get(VALIDATION))
    for name, history in sorted(namespace.items()):
        if not isinstance(history, HistoryEvidence) or history.fit_data is None:
            continue
        one_pass = history.fit_data["train"]
        trained = set(one_pass.tolist())
        seen_validation = validation | set(history.fit_data["validation"].tolist())
        outside, leaked = len(trained - checked), len(trained & seen_validation)
        if outside or leaked or len(one_pass) > len(train.epochs[0]):
            train.trained_outside[name] = (len(one_pass), outside, leaked)
