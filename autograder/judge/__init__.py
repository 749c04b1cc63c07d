"""The judge: a clean process that scores the evidence with the grade cells' trusted code.

Scores come from here, not from the student's kernel: that kernel ran the student's code,
which may have replaced the checks, Keras, NumPy or builtins, hidden tracebacks or printed
fake results.  The host starts ``python -m autograder.judge EVIDENCE_DIR CELLS_JSON``; it
loads the evidence (:mod:`autograder.evidence.read`), verifies every training history against
the model it trained (:mod:`autograder.judge.histories`) and every reported test accuracy
against its model (:mod:`autograder.judge.evaluations`), and runs each grade cell
(:mod:`autograder.judge.cells`).
"""

from autograder.judge.cells import judge, run_cell
from autograder.judge.evaluations import verify_evaluations
from autograder.judge.histories import verify_histories

__all__ = ["judge", "run_cell", "verify_evaluations", "verify_histories"]
