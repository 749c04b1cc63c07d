"""Runs in the student's kernel: the function grade cells call, a named check run quietly.

nbgrader scores any stderr output in a grade cell as a failure, and TensorFlow writes warnings
to stderr; ``grade`` keeps all of that out of the cell's output (Python warnings, logging, and
file-descriptor level writes), so a correct answer never loses points to log noise.  The score
is the cell's result (nbgrader's partial credit); the message says what passed, what did not,
and what was expected.  Under the sandboxed autograder it also saves what the check read as
evidence, so the clean judge can score it again outside this kernel.

Instructors write their own judged checks the same way: a function of the notebook's
variables returning a ``CheckResult`` (``result.add(passed, ok_line, wrong_line, weight)``),
defined in a grade cell, with ``@probes(name=[inputs])`` declaring the inputs a function
parameter is called with; see :mod:`autograder.checks.custom` for the evidence kinds.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from autograder.checks.custom import declared_probes, probes  # noqa: F401 - probes: for grade cells
from autograder.checks.result import CheckResult
from autograder.evidence import write as evidence
from autograder.evidence.records import MissingEvidence


@dataclass(frozen=True)
class var:  # reads like a keyword in grade cells: history=var("history_10000")
    """Names a notebook variable to pass to a check under another parameter name."""

    name: str


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence stderr for the block: sys.stderr, fd 2, Python warnings and logging."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        previous_disable = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            logging.disable(previous_disable)


def _resolve(check: Callable[..., CheckResult], namespace: Mapping[str, Any],
             given: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Arguments for ``check`` from ``given`` and the notebook's namespace; names still missing.

    A keyword-only parameter is a setting of the grade cell (an expected width, a learning
    rate): it comes from ``given`` or its default, never from a notebook variable of that name.
    """
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    for name, param in inspect.signature(check).parameters.items():
        if param.kind is inspect.Parameter.KEYWORD_ONLY and name not in given:
            continue
        spec = given.get(name, var(name))
        if not isinstance(spec, var):
            kwargs[name] = spec
        elif spec.name in namespace:
            kwargs[name] = namespace[spec.name]
        elif param.default is inspect.Parameter.empty:
            missing.append(spec.name)
    return kwargs, missing


def _save_evidence(check: Callable[..., CheckResult], namespace: Mapping[str, Any],
                   given: dict[str, Any]) -> None:
    """Under the sandboxed autograder, write the variables this check reads for the judge."""
    if evidence.evidence_dir() is None:
        return
    declared = declared_probes(check)
    with quiet_stderr():
        for name, param in inspect.signature(check).parameters.items():
            if param.kind is inspect.Parameter.KEYWORD_ONLY and name not in given:
                continue
            spec = given.get(name, var(name))
            if isinstance(spec, var) and spec.name in namespace:
                value = namespace[spec.name]
                if name in declared and callable(value):  # its results on the inputs the check declares
                    evidence.write_calls(spec.name, value, declared[name])
                else:
                    evidence.write(spec.name, value)


def run_check(check: Callable[..., CheckResult], namespace: Mapping[str, Any],
              **given: Any) -> CheckResult:
    """Run ``check`` with its arguments taken from ``namespace``; never raises."""
    kwargs, missing = _resolve(check, namespace, given)
    broken = [v for v in kwargs.values() if isinstance(v, MissingEvidence)]
    if broken:
        return CheckResult().fail("; ".join(f"`{b.name}` {b.reason}" for b in broken))
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        return CheckResult().fail(
            f"{names} {'is' if len(missing) == 1 else 'are'} not defined, so this could not be "
            "checked. Run all cells above in order; if one raised an error, fix it first. "
            "Keep the variable names the notebook asks for."
        )
    try:
        with quiet_stderr():
            return check(**kwargs)
    except Exception as exc:  # the student's objects can fail in any way
        return CheckResult().fail(
            f"Checking raised {type(exc).__name__}: {str(exc)[:300]}. Expected objects of the "
            "kind the instructions describe (see the cells above)."
        )


def grade(check: Callable[..., CheckResult], namespace: Mapping[str, Any], out_of: float,
          **given: Any) -> float:
    """Run a check, print its verdict, and return the points in quarter points (nbgrader's partial credit)."""
    _save_evidence(check, namespace, given)
    result = run_check(check, namespace, **given)
    points = result.points(out_of)
    name = check.__name__.removeprefix("check_").replace("_", " ")
    print(f"{name}: {points:g} / {out_of:g} points\n{result.report(out_of)}", flush=True)
    return points


def require(check: Callable[..., CheckResult], namespace: Mapping[str, Any], **given: Any) -> None:
    """A visible format check: print the verdict and raise AssertionError unless it fully passes."""
    _save_evidence(check, namespace, given)
    result = run_check(check, namespace, **given)
    print(result.message, flush=True)
    if result.score < 1:
        raise AssertionError(result.message.strip())
