"""Judged checks for your own assignments: how an instructor writes one.

A *check* is a function of evidence that returns a :class:`CheckResult`.  Each of its ordinary
parameters is a notebook variable of that name (``var("other")`` in the ``grade`` call reads
another); each keyword-only parameter is a setting given in the ``grade`` call.  Record each
part with ``result.add(passed, ok_line, wrong_line, weight=1.0)``: the student sees ``ok_line``
or ``wrong_line`` (say what was expected), and the part's share of the cell's points is its
weight over the total.  Call it from a locked grade cell::

    import numpy as np
    from autograder.checks import CheckResult, probes
    from autograder.grading import grade

    @probes(add=[(1, 2), (0.5, 0.25)])      # the inputs the judge may call add with
    def check_add(add):
        result = CheckResult()
        result.add(add(1, 2) == 3, "add(1, 2) is 3", f"add(1, 2) returned {add(1, 2)!r}; expected 3")
        result.add(add(0.5, 0.25) == 0.75, "add adds fractions", "add(0.5, 0.25) should be 0.75")
        return result

    grade(check_add, globals(), out_of=2)   # or require(check_add, globals()): pass or raise

Such a cell is *judged*: while it runs in the student's kernel, ``grade`` saves the variables
the check reads as evidence, and the clean judge re-runs the gradebook's copy of the cell on
that evidence; its score is the one recorded.  The judge runs all grade cells' trusted source,
in order, in one namespace, and nothing else: so define the check (and import what it uses,
numpy included) in that grade cell or an earlier one, or import it from a module installed
where grading runs; a check defined in an ordinary locked cell is not seen by the judge.
Read notebook variables only through the check's parameters.

What a parameter is in the judge (in the kernel it is the live object; write checks that
accept both):

* a number: a float (``6000`` comes back as ``6000.0``, which compares equal); NaN or
  infinity come back as None; a string: the string (its first 1,000 characters);
* an array: a NumPy array of numbers or bools (also a list or tuple of numbers), an
  ``np.ndarray``: judge ``np.asarray(x)``, not its type;
* a function whose check declares inputs with ``@probes(name=[...])``: a record that, called
  with one of those inputs, returns what the student's function returned (numbers, strings,
  None; arrays and lists of numbers as ``np.ndarray``) or raises its error again (a built-in
  type with the same message, else ``RecordedError``); any other input raises ValueError
  ("was not recorded").  Each input is a tuple of positional arguments, or one value for a
  function of one argument; arguments are numbers, strings, None, or lists or arrays of them;
* a function without declared inputs: its results on 1..60,000 (the MNIST assignments' kind);
* a Keras model: the model, loaded from its ``.keras`` file (architecture, weights, compile
  settings: ``model.loss``, ``model.optimizer``), so the check may call ``model.predict``;
* a Keras ``History``: ``params`` and ``history`` as Keras records them, and ``.model``, the
  model its ``fit`` trained, once the judge has verified the history against it.

A student who patches ``grade``, ``CheckResult`` or NumPy in their kernel changes only what
the kernel shows, never the recorded score.  Plain nbgrader test cells (``assert``,
``np.testing``) stay plain: the kernel's output scores them, and such patching can fool them.
``tests/example_assignment/`` is a worked example, graded both ways in
``tests/test_judged_checks_api.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from autograder.checks.result import CheckResult
from autograder.evidence.records import RecordedError, call_key

PROBES_ATTRIBUTE = "__autograder_probes__"  # on a check: parameter -> list of argument tuples
MAX_PROBES = 10_000  # inputs one check may declare for one function

Check = TypeVar("Check", bound=Callable[..., Any])


def probes(**inputs: Any) -> Callable[[Check], Check]:
    """Declare the inputs the judge may call a function parameter with: ``@probes(add=[(1, 2), (3, 4)])``.

    Each input is a tuple of positional arguments; any other value is the one argument of a
    one-argument function (``@probes(normalize=[[3, 4], [1, 0]])``).  While the check's grade
    cell runs in the student's kernel, the function's result on each input is saved as
    evidence; in the judge the parameter is a record of those calls.
    """
    declared: dict[str, list[tuple]] = {}
    for name, values in inputs.items():
        calls = [value if isinstance(value, tuple) else (value,) for value in values]
        if len(calls) > MAX_PROBES:
            raise ValueError(f"@probes({name}=...) declares {len(calls):,} inputs; at most {MAX_PROBES:,}")
        for args in calls:
            call_key(args)  # refuses, now, inputs that cannot be recorded
        declared[name] = calls

    def decorate(check: Check) -> Check:
        merged = {**getattr(check, PROBES_ATTRIBUTE, {}), **declared}
        setattr(check, PROBES_ATTRIBUTE, merged)
        return check

    return decorate


def declared_probes(check: Callable[..., Any]) -> dict[str, list[tuple]]:
    """Parameter name -> the inputs ``@probes`` declared for it on ``check`` (none: empty)."""
    declared = getattr(check, PROBES_ATTRIBUTE, None)
    return dict(declared) if isinstance(declared, dict) else {}


__all__ = ["CheckResult", "RecordedError", "probes", "declared_probes"]
