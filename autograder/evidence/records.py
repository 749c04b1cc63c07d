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
