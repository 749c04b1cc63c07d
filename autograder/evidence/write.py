"""Runs in the student's kernel: save what a grade cell's check reads, for the clean judge.

While a notebook is autograded in the sandbox, ``grade()`` also saves the notebook variables
its check reads into ``$AUTOGRADER_EVIDENCE_DIR``: plain numbers as JSON (never the student's
objects), Keras models as ``.keras`` files, histories as JSON, datasets as their statistics
plus fingerprints of every image in two passes, arrays of numbers as ``.npy`` files,
functions as their results on a range of inputs, or (``write_calls``) on the inputs a check
declares with ``@probes``.  The judge (:mod:`autograder.judge`), a separate process the
student's code never touched, loads them back (:mod:`autograder.evidence.read`) and re-runs
the grade cells' trusted code on them.

The functions this module and the dataset facts it writes (:mod:`autograder.evidence.facts`)
call are bound when they are imported (in the notebook's locked setup cell, before any student
code), so replacing ``numpy.unique`` or ``builtins.float`` later does not change what is written.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from autograder.evidence.facts import dataset_facts, split_element
from autograder.evidence.records import ENV_DIR, NAME, PROBE_INPUTS, Kind, SavedRun, call_key, evidence_file

# Bound now, before student code can replace them.
_float, _int, _str, _len = builtins.float, builtins.int, builtins.str, builtins.len
_isinstance = builtins.isinstance
_blake2b, _dumps = hashlib.blake2b, json.dumps
_np_asarray, _np_save, _np_array = np.asarray, np.savez_compressed, np.array
_isfinite = math.isfinite
_list, _tuple, _bool, _callable = builtins.list, builtins.tuple, builtins.bool, builtins.callable
_deepcopy, _np_save_npy = copy.deepcopy, np.save
_ndarray, _np_generic, _np_bool, _np_integer = np.ndarray, np.generic, np.bool_, np.integer
_np_uint64 = np.uint64
_type, _id, _getattr, _hasattr = builtins.type, builtins.id, builtins.getattr, builtins.hasattr
_range, _enumerate = builtins.range, builtins.enumerate
_exported: dict[str, int] = {}
FIT_DATA_BATCH = 10_000  # images per batch when a History's training data is fingerprinted
_calls: dict[str, tuple[int, dict[str, dict], list]] = {}  # name -> (id of the function, results, arrays)


def evidence_dir() -> Path | None:
    """The folder to write evidence into, when the sandboxed autograder asked for it."""
    value = os.environ.get(ENV_DIR)
    return Path(value) if value else None


def _file(directory: Path, name: str, kind: Kind) -> Path:
    return directory / evidence_file(name, kind)


def _write_error(directory: Path, name: str, exc: Exception) -> None:
    """Why ``name`` could not be saved, for the judge: evidence of nothing."""
    _file(directory, name, Kind.ERROR).write_text(_dumps({"error": f"{_type(exc).__name__}: {exc}"[:500]}))


def _plain_number(value: Any) -> float | None:
    try:
        number = _float(value.numpy() if _hasattr(value, "numpy") else value)
    except Exception:  # the student's object may refuse in any way
        return None
    return number if _isfinite(number) else None


def fingerprint_rows(batch: np.ndarray) -> list[int]:
    """A 64-bit fingerprint of each image (row) in ``batch``: how the judge recognises an image."""
    rows = _np_asarray(batch).reshape(_len(batch), -1)
    return [_int.from_bytes(_blake2b(row.tobytes(), digest_size=8).digest(), "little") for row in rows]


def _one_pass(dataset: Any) -> np.ndarray:
    """Fingerprints of the images of one pass over ``dataset``, read in large batches (batch size 1
    would take seconds)."""
    images_spec, _labels = split_element(dataset.element_spec)
    rows = dataset.unbatch() if _len(images_spec.shape) == 4 else dataset
    prints: list[int] = []
    for element in rows.batch(FIT_DATA_BATCH).as_numpy_iterator():
        prints.extend(fingerprint_rows(split_element(element)[0]))
    return _np_array(prints, dtype=_np_uint64)


def _write_fit_data(directory: Path, name: str, history: Any) -> None:
    """The images a History's ``fit`` trained and validated on (one pass each), when ``train_model``
    recorded them (``history.fit_data``): the judge compares them with the checked datasets."""
    data = _getattr(history, "fit_data", None)
    if not (_isinstance(data, _tuple) and _len(data) == 2):
        return
    train, validation = data
    try:
        arrays = {"train": _one_pass(train), "validation": _one_pass(validation)}
    except Exception as exc:  # not datasets fit could read as (image, label) pairs: nothing to compare
        _file(directory, name, Kind.FIT_DATA_ERROR).write_text(_dumps({"error": f"{_type(exc).__name__}"}))
        return
    _np_save(_file(directory, name, Kind.FIT_DATA), **arrays)


def _write_dataset(directory: Path, name: str, dataset: Any) -> None:
    facts = dataset_facts(dataset)
    epochs = []
    for _ in _range(2):
        prints: list[int] = []
        for element in dataset.as_numpy_iterator():
            images, _labels = split_element(element)
            images = _np_asarray(images)
            prints.extend(fingerprint_rows(images if facts["batched"] else images[None]))
        epochs.append(_np_array(prints, dtype=_np_uint64))
    _np_save(_file(directory, name, Kind.FINGERPRINTS), epoch1=epochs[0], epoch2=epochs[1])
    _file(directory, name, Kind.DATASET).write_text(_dumps(facts))


def _write_function(directory: Path, name: str, function: Any) -> None:
    results: dict[str, float | None] = {}
    for x in PROBE_INPUTS:
        try:
            results[_str(x)] = _plain_number(function(x))
        except Exception:  # the student's function may fail on some inputs
            results[_str(x)] = None
    _file(directory, name, Kind.FUNCTION).write_text(_dumps(results))


def _numeric_array(value: Any) -> np.ndarray | None:
    """``value`` (an array, or a list or tuple of numbers) as a plain array of numbers or bools, if it is one.

    Scalars and 0-d arrays are not: they stay numbers.
    """
    if not _isinstance(value, (_ndarray, _list, _tuple)):
        return None
    try:
        array = _np_array(value)  # a copy, a plain ndarray whatever subclass it was
    except Exception:  # ragged lists and the like: not an array of numbers
        return None
    return array if array.ndim and array.dtype.kind in "biuf" else None


def _call_result(value: Any, arrays: list) -> dict:
    """One recorded result: a number, string, None or array (put in ``arrays``); else its type only."""
    if value is None:
        return {"value": None}
    if _isinstance(value, _str):
        return {"value": value[:1000]}
    if _isinstance(value, (_bool, _np_bool)):
        return {"value": _bool(value)}
    if _isinstance(value, (_int, _np_integer)):
        return {"value": _int(value)}
    if _hasattr(value, "numpy") and not _callable(value):  # a tf.Tensor: its values
        value = _np_asarray(value.numpy())
    if _isinstance(value, _ndarray) and not value.ndim and value.dtype.kind in "biuf":
        return _call_result(value.item(), arrays)  # a 0-d array is a number
    array = _numeric_array(value)
    if array is not None:
        arrays.append(array)
        return {"array": f"a{_len(arrays) - 1}"}
    if _isinstance(value, (_float, _np_generic)):
        try:
            return {"value": _float(value)}  # NaN and infinities included
        except Exception:  # a NumPy scalar that is not a number
            pass
    return {"unsupported": _type(value).__name__}


def write_calls(name: str, function: Any, inputs: list[tuple]) -> None:
    """Save ``function``'s results on ``inputs`` (tuples of positional arguments) for the judge.

    Several checks may declare inputs for the same function: the file holds all of them.
    """
    directory = evidence_dir()
    if directory is None or not NAME.fullmatch(name):
        return
    try:
        previous = _calls.get(name)
        same = previous and previous[0] == _id(function)
        results, arrays = (previous[1], previous[2]) if same else ({}, [])
        for args in inputs:
            key = call_key(args)
            if key in results:
                continue
            try:
                value = function(*_deepcopy(args))  # a copy: the function may change its arguments
            except Exception as exc:  # the student's function may fail on some inputs: so recorded
                results[key] = {"error": _type(exc).__name__, "message": _str(exc)[:500]}
                continue
            try:
                results[key] = _call_result(value, arrays)
            except Exception as exc:  # a result that breaks while recorded
                results[key] = {"unsupported": f"{_type(value).__name__} ({_type(exc).__name__})"}
        _calls[name] = (_id(function), results, arrays)
        if arrays:
            _np_save(_file(directory, name, Kind.CALL_ARRAYS), **{f"a{i}": a for i, a in _enumerate(arrays)})
        _file(directory, name, Kind.CALLS).write_text(_dumps({"results": results, "arrays": _len(arrays)}))
    except Exception as exc:  # evidence of nothing; say so to the judge
        _write_error(directory, name, exc)


def write(name: str, value: Any) -> None:
    """Save one notebook variable as evidence (once per object), if evidence is being collected."""
    directory = evidence_dir()
    if directory is None or not NAME.fullmatch(name):
        return
    if _exported.get(name) == _id(value):
        return
    import tensorflow as tf

    try:
        if _isinstance(value, tf.keras.Model):
            value.save(_file(directory, name, Kind.MODEL))
        elif _isinstance(value, tf.data.Dataset):
            _write_dataset(directory, name, value)
        elif _isinstance(value, tf.keras.callbacks.History):
            params = {k: v for k, v in (value.params or {}).items() if _isinstance(v, (_int, _float))}
            logs = {_str(k): [_plain_number(x) for x in v] for k, v in (value.history or {}).items()}
            _file(directory, name, Kind.HISTORY).write_text(_dumps({"params": params, "history": logs}))
            if _isinstance(_getattr(value, "model", None), tf.keras.Model):
                # The model this history trained: the judge checks the history against it.
                value.model.save(_file(directory, name, Kind.TRAINED_MODEL))
            _write_fit_data(directory, name, value)
        elif _isinstance(value, SavedRun):
            _np_save(_file(directory, name, Kind.SAVED_RUN_WEIGHTS), *[_np_asarray(w) for w in value.weights])
            _file(directory, name, Kind.SAVED_RUN).write_text(_dumps(
                {"config": value.config, "history": value.history, "test_accuracy": value.test_accuracy}))
        elif (array := _numeric_array(value.numpy() if _isinstance(value, tf.Tensor) else value)) is not None:
            # 0-d: a number, below
            _np_save_npy(_file(directory, name, Kind.ARRAY), array, allow_pickle=False)
        elif _callable(value):
            _write_function(directory, name, value)
        else:
            kind = "string" if _isinstance(value, _str) else "number"
            plain = value[:1000] if kind == "string" else _plain_number(value)
            _file(directory, name, Kind.VALUE).write_text(_dumps({"kind": kind, "value": plain,
                                                                  "type": _type(value).__name__}))
        _exported[name] = _id(value)
    except Exception as exc:  # a broken object is evidence of nothing; say so to the judge
        _write_error(directory, name, exc)
