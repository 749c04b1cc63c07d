"""The judge: re-run the grade cells' trusted code on the evidence, in a clean process.

Scores come from here, not from the student's kernel: that kernel ran the student's code,
which may have replaced the checks, Keras, NumPy or builtins, hidden tracebacks or printed
fake results.  The judge reads the grade cells' source from the gradebook (nbgrader's copy
of the instructor's notebook, hidden tests included), loads the evidence the kernel saved,
checks that every training history matches the model it trained, and runs each cell.

    python -m autograder.judge EVIDENCE_DIR CELLS_JSON   # prints {grade_id: [points, message]}
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from autograder.evidence import MissingEvidence, load

HISTORY_TOLERANCE = 0.05


def _reference_test_sets() -> list[tuple[Any, Any]]:
    """MNIST's test images scaled to [0, 1], and unscaled (0-255) for pipelines that skip scaling."""
    import numpy as np
    import tensorflow_datasets as tfds

    images, labels = tfds.as_numpy(tfds.load("mnist", split="test", as_supervised=True, batch_size=-1))
    images = images.astype(np.float32)
    return [(images / 255.0, labels), (images, labels)]


def verify_histories(namespace: dict[str, Any]) -> None:
    """Replace any history whose final validation accuracy its own trained model cannot reproduce."""
    pairs = [(name, f"{name}.model") for name in namespace if f"{name}.model" in namespace]
    if not pairs:
        return
    test_sets = _reference_test_sets()
    for name, model_key in pairs:
        history, model = namespace[name], namespace.pop(model_key)
        if isinstance(history, MissingEvidence) or isinstance(model, MissingEvidence):
            continue
        claimed = (history.history.get("val_accuracy") or [None])[-1]
        if claimed is None:
            continue
        scores = []
        for images, labels in test_sets:
            predictions = model.predict(images, batch_size=2_000, verbose=0)
            scores.append(float((predictions.argmax(axis=-1) == labels).mean()))
        if min(abs(s - claimed) for s in scores) > HISTORY_TOLERANCE:
            namespace[name] = MissingEvidence(
                name, f"its final val_accuracy {claimed:.4f} does not match the model it trained "
                f"(that model scores {max(scores):.4f} on the test set); expected a History from model.fit")
    for key in [k for k in namespace if k.endswith(".model")]:
        namespace.pop(key)


def run_cell(source: str, globals_: dict[str, Any], max_points: float) -> tuple[float, str]:
    """Execute one grade cell like IPython and score it like nbgrader (error 0, number, else full).

    ``globals_`` is shared by all grade cells, as the kernel's namespace is (imports carry over).
    """
    out = io.StringIO()
    try:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(tree, "<grade cell>", "exec"), globals_)  # noqa: S102 - trusted source
            value = eval(compile(ast.Expression(last.value), "<grade cell>", "eval"), globals_) \
                if last is not None else None
    except Exception as exc:  # a failing check or require(): no credit, say why
        message = out.getvalue().strip()
        return 0.0, (message + "\n" if message else "") + f"{type(exc).__name__}: {exc}".strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0.0, min(float(value), max_points)), out.getvalue().strip()
    return max_points, out.getvalue().strip()


def judge(evidence_dir: Path, cells: list[dict]) -> dict[str, tuple[float, str]]:
    """grade_id -> (points, message) for each grade cell {grade_id, source, max_points}."""
    namespace = load(evidence_dir)
    verify_histories(namespace)
    globals_ = {**namespace, "__builtins__": builtins, "__name__": "__grade_cells__"}
    return {c["grade_id"]: run_cell(c["source"], globals_, float(c["max_points"])) for c in cells}


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    evidence_dir, cells_file = Path(sys.argv[1]), Path(sys.argv[2])
    results = judge(evidence_dir, json.loads(cells_file.read_text()))
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
