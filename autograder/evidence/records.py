"""The plain records evidence is made of, shared by the kernel-side writer and the judge's reader.

No TensorFlow and no student objects: a record holds numbers, strings and NumPy arrays only.
"""

from __future__ import annotations

import builtins
import json
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

ENV_DIR = "AUTOGRADER_EVIDENCE_DIR"   # where the kernel writes evidence, set by the host
PROBE_INPUTS = list(range(1, 60_001))  # a function's evidence: its results on these inputs
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # notebook variable names that may be saved
SAVED_RUN = "exercise10_run.npz"  # exercise 10's full-size run, saved beside the notebook, handed in with it
SAVED_RUN_VARIABLE = "best_run"  # the notebook variable the judge takes from that file, never from the kernel


class Kind(StrEnum):
    """What one evidence file holds, told by its name ``NAME.KIND``: one list for writer and reader."""

    MODEL = "keras"                    # a Keras model
    TRAINED_MODEL = "model.keras"      # the model a history's fit trained
    DATASET = "dataset.json"           # a dataset's facts, with
    FINGERPRINTS = "fingerprints.npz"  # its images' fingerprints in two passes
    HISTORY = "history.json"           # a Keras History's params and logs, with
    FIT_DATA = "fitdata.npz"           # the fingerprints of the images its fit trained and validated on,
    FIT_DATA_ERROR = "fitdata.json"    # or why they could not be read
    SAVED_RUN = "savedrun.json"        # a SavedRun's config and history, with
    SAVED_RUN_WEIGHTS = "savedrun.npz"  # its weights
    FUNCTION = "function.json"         # a function's results on PROBE_INPUTS
    CALLS = "calls.json"               # a function's results on the inputs checks declare, with
    CALL_ARRAYS = "calls.npz"          # the arrays among them
    ARRAY = "array.npy"                # an array of numbers
    VALUE = "json"                     # a number or a string
    ERROR = "error.json"               # why a variable could not be saved


def evidence_file(name: str, kind: Kind) -> str:
    """The name of variable ``name``'s evidence file of ``kind``."""
    return f"{name}.{kind}"


@dataclass
class DatasetEvidence:
    """A dataset as the judge sees it: its statistics and image fingerprints of two passes."""

    name: str
    facts: dict
    epochs: list[np.ndarray] = field(default_factory=list)
    # Judge only, on ``train_data``: history -> (images in one pass of the data its fit trained on,
    # how many of them this dataset does not hold, how many are validation images), for each run
    # that trained on other data than this; see autograder.judge.training_data.
    trained_outside: dict[str, tuple[int, int, int]] = field(default_factory=dict)


@dataclass
class HistoryEvidence:
    """A Keras History as the judge sees it: ``params`` (epochs, steps) and per-epoch ``history`` lists."""

    name: str
    params: dict
    history: dict[str, list[float | None]]
    model: Any = None  # the model its fit trained, once the judge has verified it (as Keras's History.model)
    fit_data: dict[str, np.ndarray] | None = None  # fingerprints of the images fit trained and validated on


@dataclass
class FunctionEvidence:
    """A function as the judge sees it: its recorded results on the probe inputs."""

    name: str
    results: dict[str, float | None]

    def __call__(self, x: Any) -> float:
        key = str(int(x)) if float(x).is_integer() else None
        if key is None or key not in self.results:
            raise ValueError(f"{self.name}({x!r}) was not recorded")
        value = self.results[key]
        if value is None:
            raise ValueError(f"{self.name}({x!r}) raised an error or returned a non-number")
        return int(value) if float(value).is_integer() else value  # 7714, as the kernel showed it


# Bound now: the kernel's writer computes keys after student code has run.
_dumps, _isfinite, _isinstance = json.dumps, math.isfinite, builtins.isinstance
_float, _int, _str, _bool = builtins.float, builtins.int, builtins.str, builtins.bool
_list, _tuple = builtins.list, builtins.tuple
_ndarray, _np_integer, _np_floating, _np_bool = np.ndarray, np.integer, np.floating, np.bool_


def _plain_input(value: Any) -> Any:
    """A probe input as plain JSON: numbers (2.0 is 2), strings, None, lists (arrays as lists)."""
    if value is None or _isinstance(value, (_bool, _np_bool, _str)):
        return _bool(value) if _isinstance(value, _np_bool) else value
    if _isinstance(value, (_int, _np_integer)):
        return _int(value)
    if _isinstance(value, (_float, _np_floating)):
        number = _float(value)
        return _int(number) if _isfinite(number) and number.is_integer() else number
    if _isinstance(value, _ndarray):
        return [_plain_input(v) for v in value.tolist()] if value.ndim else _plain_input(value.item())
    if _isinstance(value, (_list, _tuple)):
        return [_plain_input(v) for v in value]
    raise TypeError(f"a probe input is a number, a string, None, or a list or array of them, not "
                    f"{type(value).__name__}")


def call_key(args: tuple) -> str:
    """How one call's positional arguments are recorded: ``(1, 2)`` and ``(1.0, 2)`` are the same call."""
    return _dumps([_plain_input(a) for a in args], separators=(",", ":"))


class RecordedError(Exception):
    """An error a recorded function raised in the kernel, of a type the judge does not re-create."""


@dataclass
class FunctionCalls:
    """A function as the judge sees it when its check declared inputs (``@probes``): its recorded calls.

    ``results`` maps :func:`call_key` of each input to ``{"value": ...}`` (a number, string, None
    or NumPy array), ``{"error": type name, "message": ...}``, or ``{"unsupported": type name}``
    (it returned something evidence does not record).  ``fallback`` is the same variable's
    :class:`FunctionEvidence`, when a check without declared inputs read it too.
    """

    name: str
    results: dict[str, dict]
    fallback: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        shown = f"{self.name}({', '.join(repr(a) for a in args)})"
        if kwargs:
            raise TypeError(f"{self.name} was recorded with positional arguments only; call it without "
                            f"keywords ({', '.join(kwargs)})")
        try:
            key = call_key(args)
        except TypeError as exc:
            raise ValueError(f"{shown} was not recorded: {exc}") from None
        if key not in self.results:
            if self.fallback is not None and len(args) == 1:
                return self.fallback(args[0])
            raise ValueError(f"{shown} was not recorded: the judge knows only the results on the inputs "
                             "the check declares with @probes")
        record = self.results[key]
        if "value" in record:
            value = record["value"]
            return value.copy() if isinstance(value, np.ndarray) else value
        if "unsupported" in record:
            raise ValueError(f"{shown} returned a {record['unsupported']}, which is not recorded for "
                             "grading (numbers, strings, None and arrays of numbers are)")
        message = str(record.get("message", ""))
        error = getattr(builtins, str(record.get("error", "")), None)
        if isinstance(error, type) and issubclass(error, Exception):
            try:
                exc = error(message)
            except Exception:  # an error type that takes other arguments
                exc = None
            if exc is not None:
                raise exc
        raise RecordedError(f"{record.get('error', 'error')}: {message}")


@dataclass
class MissingEvidence:
    """A variable that earns nothing: its evidence was refused, or could not be written or read.

    ``reason`` completes a sentence about the variable: "`history_1` <reason>".
    """

    name: str
    reason: str


@dataclass
class SavedRun:
    """A full-size training run saved in JupyterLab (exercise 10): its settings, History and weights.

    ``config`` holds ``train_model``'s arguments (hidden_layer_size, depth, activation,
    learning_rate, batch_size, epochs); ``test_accuracy`` and ``validation_accuracy`` are what
    the weights score on MNIST's test set and on the notebook's validation images, computed by
    whoever loaded them (the judge computes its own; None where it could not).
    """

    config: dict[str, Any]
    history: dict[str, list[float | None]]
    weights: list[np.ndarray]
    test_accuracy: float | None = None
    validation_accuracy: float | None = None

    @property
    def widths(self) -> list[int]:
        """Hidden layer widths the configuration asks for."""
        return [int(self.config.get("hidden_layer_size", 0))] * int(self.config.get("depth", 0))

    @property
    def activations(self) -> list[str]:
        """Hidden layer activations the configuration asks for, one per layer."""
        activation = self.config.get("activation", "")
        if isinstance(activation, str):
            return [activation] * len(self.widths)
        return [str(a) for a in activation]
