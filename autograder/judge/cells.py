"""Run the grade cells' trusted source on the evidence and score each like nbgrader.

The cells come from the gradebook (nbgrader's copy of the instructor's notebook, hidden tests
included), never from the submitted file.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
from pathlib import Path
from typing import Any

from autograder import checks, grading
from autograder.evidence.read import load, load_saved_run
from autograder.evidence.records import SAVED_RUN, SAVED_RUN_VARIABLE
from autograder.judge.evaluations import verify_evaluations
from autograder.judge.histories import verify_histories
from autograder.judge.saved_runs import verify_saved_runs
from autograder.judge.training_data import verify_training_data


def run_cell(source: str, globals_: dict[str, Any], max_points: float) -> tuple[float, str]:
    """Execute one grade cell like IPython and score it like nbgrader (error 0, number, else full).

    ``globals_`` is shared by all grade cells, as the kernel's namespace is (imports carry over).
    """
    out = io.StringIO()
    try:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(tree, "<grade cell>", "exec"), globals_)  # trusted source
            value = eval(compile(ast.Expression(last.value), "<grade cell>", "eval"), globals_) \
                if last is not None else None
    except Exception as exc:  # a failing check or require(): no credit, say why
        message = out.getvalue().strip()
        return 0.0, (message + "\n" if message else "") + f"{type(exc).__name__}: {exc}".strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0.0, min(float(value), max_points)), out.getvalue().strip()
    return max_points, out.getvalue().strip()


def judge(evidence_dir: Path, cells: list[dict],
          handed_in: Path | None = None) -> dict[str, tuple[float, str]]:
    """grade_id -> (points, message) for each grade cell {grade_id, source, max_points}.

    ``handed_in`` is the host's copy of the files handed in beside the notebook: exercise 10's
    saved run (``best_run``) is read from there, whatever the kernel saved under that name.
    """
    namespace = load(evidence_dir)
    if handed_in is not None and (SAVED_RUN_VARIABLE in namespace or (handed_in / SAVED_RUN).exists()):
        namespace[SAVED_RUN_VARIABLE] = load_saved_run(handed_in / SAVED_RUN, SAVED_RUN_VARIABLE)
    verify_training_data(namespace)  # before histories that fail their checks are set aside
    verify_histories(namespace)
    verify_evaluations(namespace)
    verify_saved_runs(namespace)
    # The grading API grade cells call, trusted copies (in the kernel a setup cell may import it).
    api = {"checks": checks, "grade": grading.grade, "require": grading.require, "var": grading.var,
           "probes": checks.probes, "CheckResult": checks.CheckResult}
    globals_ = {**namespace, **api, "__builtins__": builtins, "__name__": "__grade_cells__"}
    return {c["grade_id"]: run_cell(c["source"], globals_, float(c["max_points"])) for c in cells}
