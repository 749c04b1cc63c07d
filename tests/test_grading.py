"""`grade()`: partial credit as a number, reasons on stdout, nothing on stderr, never an exception."""

from __future__ import annotations

import os
import sys
import warnings

import pytest

from autograder.checks.result import CheckResult
from autograder.grading import grade, require, run_check, var


def check_two_parts(first, second=None) -> CheckResult:
    r = CheckResult()
    r.add(first == 1, "first is 1", f"first is {first}; expected 1")
    r.add(second == 2, "second is 2", f"second is {second}; expected 2", weight=3)
    return r


def check_noisy(first) -> CheckResult:
    print("to stderr", file=sys.stderr)
    os.write(2, b"fd 2 noise from C++\n")
    warnings.warn("a UserWarning", stacklevel=1)
    import logging

    logging.getLogger("tensorflow").warning("absl-style warning")
    return check_two_parts(first, 2)


def test_grade_returns_partial_points_and_prints_what_was_expected(capsys):
    points = grade(check_two_parts, {"first": 1, "second": 5}, out_of=2)
    out = capsys.readouterr().out
    assert points == 0.5
    assert "✔ first is 1" in out and "✘ second is 5; expected 2" in out


def test_grade_keeps_all_stderr_noise_out_of_the_cell(capfd):
    points = grade(check_noisy, {"first": 1}, out_of=4)
    out, err = capfd.readouterr()
    assert points == 4
    assert err == ""
    assert "4 / 4 points" in out


def test_missing_variable_is_zero_with_a_hint_not_a_name_error():
    result = run_check(check_two_parts, {})
    assert result.score == 0
    assert "`first` is not defined" in result.message and "Run all cells above" in result.message


def test_var_passes_a_notebook_variable_under_another_name():
    result = run_check(check_two_parts, {"history_1": 1}, first=var("history_1"), second=2)
    assert result.score == 1


def test_a_check_that_raises_becomes_zero_with_the_error_named():
    def check_boom(first) -> CheckResult:
        raise KeyError("val_accuracy")

    result = run_check(check_boom, {"first": 1})
    assert result.score == 0 and "KeyError" in result.message


def test_require_raises_assertion_error_only_when_the_format_is_wrong():
    require(check_two_parts, {"first": 1, "second": 2})
    with pytest.raises(AssertionError, match="expected 1"):
        require(check_two_parts, {"first": 0, "second": 2})


def test_points_are_whole_quarters_and_each_line_says_what_it_carries(capsys):
    """Weights 1 and 3 of 2 points: 0.5 and 1.5; a share that is no whole quarter rounds down."""
    points = grade(check_two_parts, {"first": 0, "second": 2}, out_of=2)
    out = capsys.readouterr().out
    assert points == 1.5
    assert "✘ first is 0; expected 1 (0 of 0.5)" in out and "✔ second is 2 (1.5)" in out
    thirds = CheckResult()
    thirds.add(True, "a", "")
    thirds.add(False, "", "b")
    thirds.add(False, "", "c")
    assert thirds.points(1) == 0.25  # a third of a point, rounded down to a quarter
