"""Evidence: what a grade cell's check looked at, written out of the kernel for a clean judge.

While a notebook is autograded in the sandbox, ``grade()`` also saves the notebook variables
its check reads into ``$AUTOGRADER_EVIDENCE_DIR``: plain numbers as JSON (never the student's
objects), Keras models as ``.keras`` files, histories as JSON, datasets as their statistics
plus fingerprints of every image in two passes, functions as their results on a range of
inputs.  The judge (:mod:`autograder.judge`), a separate process the student's code never
touched, loads them back and re-runs the grade cells' trusted code on them.

The functions this module needs are bound when it is imported (in the notebook's locked setup
cell, before any student code), so replacing ``numpy.unique`` or ``builtins.float`` later does
not change what is written.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ENV_DIR = "AUTOGRADER_EVIDENCE_DIR"
PROBE_INPUTS = list(range(1, 60_001))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

# Bound now, before student code can replace them.
_float, _int, _str, _len = builtins.float, builtins.int, builtins.str, builtins.len
_isinstance = builtins.isinstance
_blake2b, _dumps, _loads = hashlib.blake2b, json.dumps, json.loads
_np_asarray, _np_save, _np_load, _np_array = np.asarray, np.savez_compressed, np.load, np.array
_isfinite = math.isfinite
_exported: dict[str, int] = {}


def evidence_dir() -> Path | None:
    """The folder to write evidence into, when the sandboxed autograder asked for it."""
    value = os.environ.get(ENV_DIR)
    return Path(value) if value else None


# ---------------------------------------------------------------- writing (in the kernel)

def _plain_number(value: Any) -> float | None:
    try:
        number = _float(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:  # the student's object may refuse in any way
        return None
    return number if _isfinite(number) else None


def _fingerprint_rows(batch: np.ndarray) -> list[int]:
    rows = _np_asarray(batch).reshape(_len(batch), -1)
    return [_int.from_bytes(_blake2b(row.tobytes(), digest_size=8).digest(), "little") for row in rows]


def _write_dataset(directory: Path, name: str, dataset: Any) -> None:
    from autograder.facts import _split_element, dataset_facts

    facts = dataset_facts(dataset)
    epochs = []
    for _ in range(2):
        prints: list[int] = []
        for element in dataset.as_numpy_iterator():
            images, _labels = _split_element(element)
            images = _np_asarray(images)
            prints.extend(_fingerprint_rows(images if facts["batched"] else images[None]))
        epochs.append(_np_array(prints, dtype=np.uint64))
    _np_save(directory / f"{name}.fingerprints.npz", epoch1=epochs[0], epoch2=epochs[1])
    (directory / f"{name}.dataset.json").write_text(_dumps(facts))


def _write_function(directory: Path, name: str, function: Any) -> None:
    results: dict[str, float | None] = {}
    for x in PROBE_INPUTS:
        try:
            results[_str(x)] = _plain_number(function(x))
        except Exception:  # the student's function may fail on some inputs
            results[_str(x)] = None
    (directory / f"{name}.function.json").write_text(_dumps(results))


def write(name: str, value: Any) -> None:
    """Save one notebook variable as evidence (once per object), if evidence is being collected."""
    directory = evidence_dir()
    if directory is None or not _NAME.fullmatch(name):
        return
    if _exported.get(name) == id(value):
        return
    import tensorflow as tf

    try:
        if _isinstance(value, tf.keras.Model):
            value.save(directory / f"{name}.keras")
        elif _isinstance(value, tf.data.Dataset):
            _write_dataset(directory, name, value)
        elif _isinstance(value, tf.keras.callbacks.History):
            params = {k: v for k, v in (value.params or {}).items() if _isinstance(v, (_int, _float))}
            logs = {_str(k): [_plain_number(x) for x in v] for k, v in (value.history or {}).items()}
            (directory / f"{name}.history.json").write_text(_dumps({"params": params, "history": logs}))
            if _isinstance(getattr(value, "model", None), tf.keras.Model):
                # The model this history trained: the judge checks the history against it.
                value.model.save(directory / f"{name}.model.keras")
        elif callable(value):
            _write_function(directory, name, value)
        else:
            kind = "string" if _isinstance(value, _str) else "number"
            plain = value[:1000] if kind == "string" else _plain_number(value)
            (directory / f"{name}.json").write_text(_dumps({"kind": kind, "value": plain,
                                                            "type": type(value).__name__}))
        _exported[name] = id(value)
    except Exception as exc:  # a broken object is evidence of nothing; say so to the judge
        (directory / f"{name}.error.json").write_text(_dumps({"error": f"{type(exc).__name__}: {exc}"[:500]}))


# ---------------------------------------------------------------- reading (in the judge)

@dataclass
class DatasetEvidence:
    """A dataset as the judge sees it: its statistics and image fingerprints of two passes."""

    name: str
    facts: dict
    epochs: list[np.ndarray] = field(default_factory=list)


@dataclass
class FunctionEvidence:
    """A function as the judge sees it: its recorded results on the probe inputs."""

    name: str
    results: dict[str, float | None]

    def __call__(self, x: Any) -> float:
        key = str(int(x)) if float(x).is_integer() else None
        if key is None or key not in self.results:
            raise ValueError(f"{self.name}({x!r}) was not recorded")
        if self.results[key] is None:
            raise ValueError(f"{self.name}({x!r}) raised an error or returned a non-number")
        return self.results[key]


@dataclass
class MissingEvidence:
    """A variable whose evidence could not be written or read; checks fail with ``reason``."""

    name: str
    reason: str


def load(directory: Path) -> dict[str, Any]:
    """Notebook variable name -> the object the judge's checks get, from an evidence folder."""
    namespace: dict[str, Any] = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        name, _, kind = path.name.partition(".")
        if not _NAME.fullmatch(name):
            continue
        try:
            if kind == "model.keras":
                import tensorflow as tf

                namespace[f"{name}.model"] = tf.keras.models.load_model(path, compile=False)
            elif kind == "keras":
                import tensorflow as tf

                namespace[name] = tf.keras.models.load_model(path, compile=True)
            elif kind == "dataset.json":
                data = _np_load(directory / f"{name}.fingerprints.npz")
                namespace[name] = DatasetEvidence(name, _loads(path.read_text()),
                                                  [data["epoch1"], data["epoch2"]])
            elif kind == "history.json":
                record = _loads(path.read_text())
                namespace[name] = SimpleNamespace(params=record["params"], history=record["history"])
            elif kind == "function.json":
                namespace[name] = FunctionEvidence(name, _loads(path.read_text()))
            elif kind == "json":
                namespace[name] = _loads(path.read_text())["value"]
            elif kind == "error.json":
                namespace.setdefault(name, MissingEvidence(name, _loads(path.read_text())["error"]))
        except Exception as exc:  # unreadable evidence counts as none
            reason = f"its saved copy could not be read ({type(exc).__name__})"
            namespace[name] = MissingEvidence(name, reason)
    return namespace
