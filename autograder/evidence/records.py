"""The plain records evidence is made of, shared by the kernel-side writer and the judge's reader.

No TensorFlow and no student objects: a record holds numbers, strings and NumPy arrays only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ENV_DIR = "AUTOGRADER_EVIDENCE_DIR"   # where the kernel writes evidence, set by the host
PROBE_INPUTS = list(range(1, 60_001))  # a function's evidence: its results on these inputs
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # notebook variable names that may be saved
SAVED_RUN = "exercise10_run.npz"  # exercise 10's full-size run, saved beside the notebook, handed in with it
SAVED_RUN_VARIABLE = "best_run"  # the notebook variable the judge takes from that file, never from the kernel


@dataclass
class DatasetEvidence:
    """A dataset as the judge sees it: its statistics and image fingerprints of two passes."""

    name: str
    facts: dict
    epochs: list[np.ndarray] = field(default_factory=list)


@dataclass
class HistoryEvidence:
    """A Keras History as the judge sees it: ``params`` (epochs, steps) and per-epoch ``history`` lists."""

    name: str
    params: dict
    history: dict[str, list[float | None]]
    model: Any = None  # the model its fit trained, once the judge has verified it (as Keras's History.model)


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
