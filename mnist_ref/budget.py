"""The reduced training budget used while nbgrader runs a notebook, as a Keras callback.

Autograding must finish in about two minutes on two CPU cores, but the batch-size-1 run alone
is 54,000 updates per epoch.  Under nbgrader (``NBGRADER_EXECUTION`` is ``autograde`` or
``validate``) every ``fit`` that carries this callback stops after ``MAX_EPOCHS`` epochs or
``MAX_UPDATES`` updates, whichever comes first.  In JupyterLab it changes nothing.

Either way, when training ends it adds two lists to ``history.history``: ``seconds`` (wall
time of each epoch) and ``updates`` (optimizer steps actually taken in each epoch).  They are
added at the end, not to each epoch's logs, so Keras's progress lines stay as usual.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf

from mnist_ref import lesson

GRADING_ENV = "NBGRADER_EXECUTION"
MAX_EPOCHS = lesson.BUDGET_MAX_EPOCHS
MAX_UPDATES = lesson.BUDGET_MAX_UPDATES


def under_grading() -> bool:
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get(GRADING_ENV))


class TrainingBudget(tf.keras.callbacks.Callback):
    """Records seconds and updates per epoch; stops training early when a limit is set and hit."""

    def __init__(self, max_epochs: int | None = None, max_updates: int | None = None):
        super().__init__()
        self.max_epochs = max_epochs
        self.max_updates = max_updates
        self.total_updates = 0
        self._epoch_updates = 0
        self._first_update: int | None = None
        self._start = 0.0

    def on_train_begin(self, logs=None):
        self.total_updates = 0
        self.seconds: list[float] = []
        self.updates: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_updates = 0
        self._first_update = self._updates_so_far()
        self._start = time.perf_counter()

    def _updates_so_far(self) -> int | None:
        """The optimizer's own step counter, or None without one."""
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        return None if iterations is None else int(iterations)

    def on_train_batch_end(self, batch, logs=None):
        # Count the optimizer's steps: with steps_per_execution > 1, Keras's ``batch`` is the
        # chunk's last index even when the epoch's data ran out inside the chunk.
        now = self._updates_so_far()
        if now is None or self._first_update is None:
            self._epoch_updates = batch + 1
        else:
            self._epoch_updates = now - self._first_update
        if self.max_updates is not None and self.total_updates + self._epoch_updates >= self.max_updates:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.total_updates += self._epoch_updates
        self.seconds.append(time.perf_counter() - self._start)
        self.updates.append(float(self._epoch_updates))
        if self.max_epochs is not None and epoch + 1 >= self.max_epochs:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        history = getattr(self.model, "history", None)
        if history is not None and hasattr(history, "history"):
            history.history["seconds"] = list(self.seconds)
            history.history["updates"] = list(self.updates)


def grading_budget(graded_epochs: int | None = None) -> TrainingBudget:
    """The callback for notebooks: limits training only while nbgrader runs the notebook.

    ``graded_epochs`` lowers the graded run's epoch limit for one run (exercise 10's large
    models): the budget's updates still apply.
    """
    if under_grading():
        return TrainingBudget(min(MAX_EPOCHS, graded_epochs or MAX_EPOCHS), MAX_UPDATES)
    return TrainingBudget()
