"""Accuracy and timing bands the grader accepts, set from repeated reference runs.

The measurements behind each number are in README.md ("How the bands were set"); the study
command (``python -m mnist_ref study --grading-budget --seeds 3``) reproduces them.  The
lesson's own numbers (epochs, batch sizes) are in :mod:`mnist_ref.lesson`.
"""

# Batch size 100, 5 epochs: validation accuracy after the 5th epoch, and test accuracy.
MAIN_VAL_ACCURACY = (0.955, 0.985)
MAIN_TEST_ACCURACY = (0.950, 0.985)

# Batch size 1, validation accuracy after its first epoch: a full epoch (54,000 updates) in
# JupyterLab, or the first BUDGET_MAX_UPDATES updates under nbgrader's reduced budget.
BATCH1_FIRST_EPOCH_FULL = 0.93
BATCH1_FIRST_EPOCH_BUDGET = 0.80

# Batch size 1 must take at least this many times longer per (estimated full) epoch than 100.
MIN_TIME_RATIO_BATCH1_VS_100 = 5.0

# The follow-up run: batch 30,000 or 50,000 "with about 100 epochs".
LONG_RUN_MIN_EPOCHS = 50
