"""Runs in the judge: load an evidence folder back into the objects the checks are given.

Models are loaded by Keras from their ``.keras`` files, everything else from plain JSON and
NumPy files; nothing the student's kernel made is unpickled or executed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from autograder.evidence.records import (
    NAME,
    DatasetEvidence,
    FunctionEvidence,
    HistoryEvidence,
    MissingEvidence,
    SavedRun,
)

# Each kind of file a variable can leave: ``NAME.KIND`` (see autograder.evidence.write).
TRAINED_MODEL_SUFFIX = ".model"  # ``history_100.model``: the model a history's fit trained


def _custom_objects() -> dict[str, Any]:
    """Names Keras saves but cannot load back: ``activation=tf.nn.softmax`` is saved as ``softmax_v2``."""
    import tensorflow as tf

    return {"softmax_v2": tf.nn.softmax}


def _load_model(path: Path, compile: bool = True) -> Any:  # noqa: A002 - Keras's own argument name
    import tensorflow as tf

    return tf.keras.models.load_model(path, compile=compile, custom_objects=_custom_objects())


def _load_trained_model(path: Path) -> Any:
    """A history's model with its optimizer state (the judge counts its updates), else its weights only."""
    try:
        return _load_model(path, compile=True)
    except Exception:  # e.g. a custom loss Keras cannot rebuild: the weights still load
        return _load_model(path, compile=False)


def load(directory: Path) -> dict[str, Any]:
    """Notebook variable name -> the object the judge's checks get, from an evidence folder.

    A history's trained model is returned under ``NAME.model`` for the judge to verify.
    """
    namespace: dict[str, Any] = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        name, _, kind = path.name.partition(".")
        if not NAME.fullmatch(name):
            continue
        try:
            if kind == "model.keras":
                namespace[name + TRAINED_MODEL_SUFFIX] = _load_trained_model(path)
            elif kind == "keras":
                namespace[name] = _load_model(path, compile=True)
            elif kind == "dataset.json":
                data = np.load(directory / f"{name}.fingerprints.npz")
                namespace[name] = DatasetEvidence(name, json.loads(path.read_text()),
                                                  [data["epoch1"], data["epoch2"]])
            elif kind == "history.json":
                record = json.loads(path.read_text())
                namespace[name] = HistoryEvidence(name, dict(record["params"]), dict(record["history"]))
            elif kind == "savedrun.json":
                record = json.loads(path.read_text())
                with np.load(directory / f"{name}.savedrun.npz", allow_pickle=False) as data:
                    weights = [data[f"arr_{i}"] for i in range(len(data.files))]
                namespace[name] = SavedRun(dict(record["config"]), dict(record["history"]), weights)
            elif kind == "function.json":
                namespace[name] = FunctionEvidence(name, json.loads(path.read_text()))
            elif kind == "json":
                namespace[name] = json.loads(path.read_text())["value"]
            elif kind == "error.json":
                error = json.loads(path.read_text())["error"]
                namespace.setdefault(name, MissingEvidence(name, f"could not be saved for grading: {error}"))
        except Exception as exc:  # unreadable evidence counts as none
            reason = f"could not be read back for grading ({type(exc).__name__})"
            namespace[name] = MissingEvidence(name, reason)
    return namespace
