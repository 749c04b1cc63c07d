"""Runs in the student's kernel: save what a grade cell's check reads, for the clean judge.

While a notebook is autograded in the sandbox, ``grade()`` also saves the notebook variables
its check reads into ``$AUTOGRADER_EVIDENCE_DIR``: plain numbers as JSON (never the student's
objects), Keras models as ``.keras`` files, histories as JSON, datasets as their statistics
plus fingerprints of every image in two passes, functions as their results on a range of
inputs.  The judge (:mod:`autograder.judge`), a separate process the student's code never
touched, loads them back (:mod:`autograder.evidence.read`) and re-runs the grade cells'
trusted code on them.

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
from pathlib import Path
from typing import Any

import numpy as np

from autograder.evidence.facts import dataset_facts, split_element
from autograder.evidence.records import ENV_DIR, NAME, PROBE_INPUTS, SavedRun

# Bound now, before student code can replace them.
_float, _int, _str, _len = builtins.float, builtins.int, builtins.str, builtins.len
_isinstance = builtins.isinstance
_blake2b, _dumps = hashlib.blake2b, json.dumps
_np_asarray, _np_save, _np_array = np.asarray, np.savez_compressed, np.array
_isfinite = math.isfinite
_exported: dict[str, int] = {}


def evidence_dir() -> Path | None:
    """The folder to write evidence into, when the sandboxed autograder asked for it."""
    value = os.environ.get(ENV_DIR)
    return Path(value) if value else None


def _plain_number(value: Any) -> float | None:
    try:
        number = _float(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:  # the student's object may refuse in any way
        return None
    return number if _isfinite(number) else None


def fingerprint_rows(batch: np.ndarray) -> list[int]:
    """A 64-bit fingerprint of each image (row) in ``batch``: how the judge recognises an image."""
    rows = _np_asarray(batch).reshape(_len(batch), -1)
    return [_int.from_bytes(_blake2b(row.tobytes(), digest_size=8).digest(), "little") for row in rows]


def _write_dataset(directory: Path, name: str, dataset: Any) -> None:
    facts = dataset_facts(dataset)
    epochs = []
    for _ in range(2):
        prints: list[int] = []
        for element in dataset.as_numpy_iterator():
            images, _labels = split_element(element)
            images = _np_asarray(images)
            prints.extend(fingerprint_rows(images if facts["batched"] else images[None]))
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
    if directory is None or not NAME.fullmatch(name):
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
        elif _isinstance(value, SavedRun):
            _np_save(directory / f"{name}.savedrun.npz", *[_np_asarray(w) for w in value.weights])
            (directory / f"{name}.savedrun.json").write_text(_dumps(
                {"config": value.config, "history": value.history, "test_accuracy": value.test_accuracy}))
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
