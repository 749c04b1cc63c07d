"""Checks of short answers: a value, a choice, or a function's results on given cases.

The expected values are passed in by the grade cell's hidden tests, not stored here, so
reading this package does not give the answers away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from autograder.checks.result import CheckResult
from autograder.evidence.facts import as_number


def _same(answer: Any, expected: Any) -> bool:
    """A number equal to the expected number, or a string equal to the expected string (any case)."""
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.lower()
    value = as_number(answer)
    return value is not None and value == float(expected)


def check_choice(answer: Any, choices: list, name: str) -> CheckResult:
    """The answer is one of the allowed choices, numbers or names (format only; reveals nothing)."""
    r = CheckResult()
    r.add(any(_same(answer, c) for c in choices), f"{name} is one of {choices}",
          f"{name} is {answer!r}; expected one of {choices}")
    return r


def check_value(answer: Any, expected: Any, name: str, why: str = "") -> CheckResult:
    """The answer equals the expected number (integers compared exactly) or name."""
    r = CheckResult()
    r.add(_same(answer, expected), f"{name} is right",
          f"{name} is {answer!r}; expected {expected!r}" + (f" ({why})" if why else ""))
    return r


def check_function_cases(function: Callable, cases: Mapping[Any, Any], name: str) -> CheckResult:
    """``function(x) == cases[x]`` for every case; each case is one part of the score."""
    r = CheckResult()
    if not callable(function):
        return r.fail(f"{name} is {type(function).__name__}, not a function")
    for arg, expected in cases.items():
        try:
            got = function(arg)
        except Exception as exc:  # the student's function may fail
            r.add(False, "", f"{name}({arg!r}) raised {type(exc).__name__}: {exc}")
            continue
        r.add(as_number(got) == float(expected), f"{name}({arg!r}) == {expected!r}",
              f"{name}({arg!r}) returned {got!r}; expected {expected!r}")
    return r
