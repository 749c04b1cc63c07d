"""The lesson's numbers, in one place and without TensorFlow: splits, model, training, budget.

The checks (:mod:`autograder.checks`), the reference (:mod:`mnist_ref`) and the benchmarks
import these, so a number the lesson fixes is written once.  Importing this module is cheap
(no TensorFlow), which is why the checks and the host side can use it freely.
"""

from __future__ import annotations

import math

# ---------------------------------------------------------------- data
NUM_TRAIN_FULL = 60_000          # MNIST's training split
VALIDATION_FRACTION = 0.1        # held out for validation
NUM_VALIDATION = 6_000           # VALIDATION_FRACTION of NUM_TRAIN_FULL
NUM_TRAIN = NUM_TRAIN_FULL - NUM_VALIDATION  # 54,000 training images
NUM_TEST = 10_000                # MNIST's test split
IMAGE_SHAPE = (28, 28, 1)
NUM_PIXELS = 28 * 28
NUM_CLASSES = 10
BUFFER_SIZE = 10_000             # the lesson's shuffle buffer

# ---------------------------------------------------------------- model
HIDDEN_UNITS = 50
HIDDEN_LAYERS = 2
HIDDEN_ACTIVATION = "relu"
OUTPUT_ACTIVATION = "softmax"
PARAMS = 42_310                  # (784*50 + 50) + (50*50 + 50) + (50*10 + 10)
ADAM_DEFAULT_LEARNING_RATE = 0.001

# ---------------------------------------------------------------- training
BATCH_SIZE = 100
EPOCHS = 5
LARGE_BATCH_SIZE = 10_000        # exercise 6
SGD_BATCH_SIZE = 1               # exercise 7
LONG_RUN_BATCH_SIZES = (30_000, 50_000)  # the follow-up "about 100 epochs" run
LONG_RUN_EPOCHS = 100

# ---------------------------------------------------------------- grading budget
# While nbgrader runs a notebook, every training run stops after this many epochs or
# updates, whichever comes first (mnist_ref.budget); the grader's bands assume it.
BUDGET_MAX_EPOCHS = 5
BUDGET_MAX_UPDATES = 3_000


def full_epoch_steps(batch_size: int, num_train: int = NUM_TRAIN) -> int:
    """Optimizer updates in one full epoch: the number of batches, the last one possibly short."""
    return math.ceil(num_train / batch_size)


def full_epoch_seconds(seconds: float, updates: float | None, steps: int | None) -> float:
    """An epoch's seconds scaled to a full epoch of ``steps`` updates (seconds / updates * steps).

    Equal to ``seconds`` for a complete epoch; an estimate when the grading budget cut it short.
    """
    if not updates or not steps:
        return seconds
    return seconds / updates * steps
