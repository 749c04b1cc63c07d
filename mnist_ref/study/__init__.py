"""`python -m mnist_ref study`: the lesson's batch-size runs over several seeds, with tables and plots.

By default the fast reference engine runs the lesson's five runs (batch 1, 100 and 10,000 for 5
epochs; 30,000 and 50,000 for 100).  ``--grading-budget`` instead runs what the grader runs:
plain Keras ``fit`` (one step per call) with the :class:`~mnist_ref.budget.TrainingBudget`
limits, so the grader's accuracy bands come from measurements.  ``--variants`` runs the
hyper-parameter exercises' models (:data:`mnist_ref.lesson.VARIANTS`) at batch 100 for 5 epochs
instead, and compares each with the baseline run of the same seed.

Modules: :mod:`.plan` (which runs, and running them), :mod:`.cli` (the subcommand and its
output files), :mod:`.report` (median and spread over seeds, tables), :mod:`.variant_report`
(the variants' tables, paired with the baseline), :mod:`.plots` (PNG files) and
:mod:`.lesson_results` (the numbers the lesson printed).  Importing the package
loads neither TensorFlow nor matplotlib.
"""

from __future__ import annotations

from mnist_ref.study.cli import add_parser, cmd_study
from mnist_ref.study.plan import RunSpec, plan_runs, plan_variant_runs, planned_updates, run_one, run_study

__all__ = ["RunSpec", "add_parser", "cmd_study", "plan_runs", "plan_variant_runs", "planned_updates",
           "run_one", "run_study"]
