"""Runs in the judge: load an evidence folder back into the objects the checks are given.

Models are loaded by Keras from their ``.keras`` files, everything else from plain JSON and
NumPy files; nothing the student's kernel made is unpickled or executed.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from autograder.evidence.records import NAME, DatasetEvidence, FunctionEvidence, MissingEvidence

# Each kind of file a variable can leave: ``NAME.KIND`` (see autograder.evidence.write).
TRAINED_MODEL_SUFFIX = ".model"  # ``history_100.model``: the model a history's fit trained


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
                import tensorflow as tf

                namespace[name + TRAINED_MODEL_SUFFIX] = tf.keras.models.load_model(path, compile=False)
            elif kind == "keras":
                import tensorflow as tf

                namespace[name] = tf.keras.models.load_model(path, compile=True)
            elif kind == "dataset.json":
                data = np.load(directory / f"{name}.fingerprints.npz")
                namespace[name] = DatasetEvidence(name, json.loads(path.read_text()),
                                                  [data["epoch1"], data["epoch2"]])
            elif kind == "history.json":
                record = json.loads(path.read_text())
                namespace[name] = SimpleNamespace(params=record["params"], history=record["history"])
            elif kind == "function.json":
                namespace[name] = FunctionEvidence(name, json.loads(path.read_text()))
            elif kind == "json":
                namespace[name] = json.loads(path.read_text())["value"]
            elif kind == "error.json":
                namespace.setdefault(name, MissingEvidence(name, json.loads(path.read_text())["error"]))
        except Exception as exc:  # unreadable evidence counts as none
            reason = f"its saved copy could not be read ({type(exc).__name__})"
            namespace[name] = MissingEvidence(name, reason)
    return namespace
