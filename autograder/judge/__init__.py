"""The judge: a clean process that scores the evidence with the grade cells' trusted code.

Scores come from here, not from the student's kernel: that kernel ran the student's code,
which may have replaced the checks, Keras, NumPy or builtins, hidden tracebacks or printed
fake results.  The host starts ``python -m autograder.judge --wait`` beside the student's kernel
(:mod:`autograder.judge.__main__`); for each submission it loads the evidence
(:mod:`autograder.evidence.read`), notes runs that trained on other data than the checked
datasets (:mod:`autograder.judge.training_data`), verifies every training history against the
model it trained (:mod:`autograder.judge.histories`), every reported test accuracy against its
model (:mod:`autograder.judge.evaluations`) and exercise 10's saved run on MNIST itself
(:mod:`autograder.judge.saved_runs`, the test set from :mod:`autograder.judge.reference`), then
runs each grade cell (:mod:`autograder.judge.cells`).
"""

from autograder.judge.cells import judge, run_cell
from autograder.judge.evaluations import verify_evaluations
from autograder.judge.histories import verify_histories

__all__ = ["judge", "run_cell", "verify_evaluations", "verify_histories"]
