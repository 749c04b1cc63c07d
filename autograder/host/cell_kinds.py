"""Runs on the host: which grade cells the clean judge scores, and which nbgrader scores as usual.

A *judged* cell calls the evidence API (``grade(...)`` or ``require(...)`` of
:mod:`autograder.grading`): the kernel saves what its check reads, and the judge re-runs the
cell's trusted source on that evidence in a clean process, so a student who patches the checks
in their own kernel gains nothing.  Any other autograded test cell (plain ``assert``s,
``numpy.testing``, hidden tests, nbgrader's autograded answers) is *plain*: it is scored the way
nbgrader scores it, from the sandboxed kernel's own output (an error: 0; otherwise its points).
The sandbox guards the course either way; only judged cells resist tampering inside the kernel.
"""

from __future__ import annotations

import ast

JUDGED_CALLS = frozenset({"grade", "require"})  # autograder.grading's entry points

# What each kind of cell protects against, said under its output in the graded notebook and feedback.
JUDGED_NOTE = ("(checked again from saved evidence in a clean process: changing the checks inside the "
               "notebook cannot change this score)")
PLAIN_NOTE = ("(scored from this notebook's own output, as nbgrader scores it; not checked again outside "
              "the notebook)")


def is_judged(source: str) -> bool:
    """True when a grade cell's (trusted) source calls ``grade(...)`` or ``require(...)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: not the evidence API
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "id", None) if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in JUDGED_CALLS:
                return True
    return False
