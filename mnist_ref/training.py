"""Train and evaluate the reference model, recording seconds, loss, accuracy and updates per epoch.

Two engines run the same mathematics (model, Adam, loss, data, split, batches):
``"compiled"`` (default) is the fast XLA loop of :mod:`mnist_ref.compiled`; ``"keras"`` is
plain ``model.fit``, as the lesson and the student notebook run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

import tensorflow as tf

from mnist_ref.compiled import DEFAULT_STEPS_PER_CALL, fit_compiled
from mnist_ref.data import MnistSplits, load_splits
from mnist_ref.lesson import BATCH_SIZE, EPOCHS, Variant
from mnist_ref.model import build_model, build_variant, compile_model
from mnist_ref.records import EpochRecord, TrainingResult

__all__ = ["EpochRecord", "EpochRecorder", "Engine", "TrainingResult", "seed_everything", "train"]

DEFAULT_SEED = 0
ENGINES = ("compiled", "keras")
Engine = Literal["compiled", "keras"]


class EpochRecorder(tf.keras.callbacks.Callback):
    """Times each epoch, counts its updates and turns Keras's logs into EpochRecords.

    ``on_epoch`` gets each record; ``on_updates`` gets the number of new updates after each
    call into TensorFlow (for progress bars).
    """

    def __init__(
        self,
        on_epoch: Callable[[EpochRecord], None] | None = None,
        on_updates: Callable[[int], None] | None = None,
    ):
        super().__init__()
        self.records: list[EpochRecord] = []
        self._on_epoch = on_epoch
        self._on_updates = on_updates
        self._start = 0.0
        self._updates = 0
        self._first_step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._updates = 0
        self._first_step = self._optimizer_steps() or 0

    def _optimizer_steps(self) -> int | None:
        """The optimizer's own update counter, or None without one."""
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        return None if iterations is None else int(iterations)

    def _updates_this_epoch(self, batch: int) -> int:
        """Updates so far this epoch: Keras's step index at one step per call, else the optimizer's count."""
        # With steps_per_execution > 1 Keras passes the chunk's last index even when the data ran
        # out inside it (550 for 540 batches at 50 per call); the optimizer counts real updates.
        steps = self._optimizer_steps() if (getattr(self.model, "steps_per_execution", 1) or 1) > 1 else None
        return batch + 1 if steps is None else steps - self._first_step

    def on_train_batch_end(self, batch, logs=None):
        done = self._updates_this_epoch(batch)
        new = done - self._updates
        self._updates = done
        if self._on_updates and new > 0:
            self._on_updates(new)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        record = EpochRecord(
            epoch=epoch + 1,
            seconds=time.perf_counter() - self._start,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=float(logs.get("val_loss", float("nan"))),
            val_accuracy=float(logs.get("val_accuracy", float("nan"))),
            updates=self._updates,
        )
        self.records.append(record)
        if self._on_epoch:
            self._on_epoch(record)


def seed_everything(seed: int, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's ops deterministic."""
    tf.keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def train(
    batch_size: int = BATCH_SIZE,
    epochs: int = EPOCHS,
    seed: int = DEFAULT_SEED,
    splits: MnistSplits | None = None,
    steps_per_execution: int | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    model_kwargs: dict | None = None,
    engine: Engine = "compiled",
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
    on_updates: Callable[[int], None] | None = None,
    variant: Variant | None = None,
) -> TrainingResult:
    """Build, compile and train the lesson's model (or a ``variant`` of it), then evaluate it on the test set.

    ``steps_per_execution`` is the number of training steps per call into TensorFlow (speed
    only): by default 1 for ``engine="keras"`` (plain fit) and 1,000 for ``"compiled"``.
    ``callbacks`` are Keras callbacks, so they need ``engine="keras"``.  ``model_kwargs`` go to
    :func:`~mnist_ref.model.build_model`; a ``variant`` replaces them (and sets the learning rate).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if callbacks and engine != "keras":
        raise ValueError("Keras callbacks need engine='keras'")
    if variant is not None and model_kwargs:
        raise ValueError("give a variant or model_kwargs, not both")
    name = variant.name if variant else None
    seed_everything(seed)
    splits = splits or load_splits(batch_size)
    if splits.batch_size != batch_size:
        raise ValueError(f"splits are batched by {splits.batch_size}, not {batch_size}")
    if engine == "compiled":
        if splits.arrays is None:
            raise ValueError("engine='compiled' needs splits from load_splits (with in-memory arrays)")
        model = _compiled_model(variant, model_kwargs)
        records, steps = fit_compiled(
            model, splits.arrays, batch_size, epochs,
            steps_per_call=steps_per_execution or DEFAULT_STEPS_PER_CALL,
            on_epoch=on_epoch, on_updates=on_updates,
        )
        test_loss, test_accuracy = steps.evaluate(splits.arrays.x_test, splits.arrays.y_test)
        return TrainingResult(batch_size, seed, records, test_loss, test_accuracy, variant=name)

    model = _compiled_model(variant, model_kwargs, steps_per_execution or 1)
    recorder = EpochRecorder(on_epoch, on_updates)
    model.fit(
        splits.train,
        epochs=epochs,
        validation_data=splits.validation,
        callbacks=[*callbacks, recorder],
        shuffle=False,  # the dataset reshuffles itself; saying so silences Keras's warning
        verbose=0,
    )
    test_loss, test_accuracy = model.evaluate(splits.test, verbose=0)
    return TrainingResult(batch_size, seed, recorder.records, float(test_loss), float(test_accuracy),
                          variant=name)


def _compiled_model(
    variant: Variant | None, model_kwargs: dict | None, steps_per_execution: int = 1
) -> tf.keras.Model:
    """The variant's model, or the lesson's built with ``model_kwargs``; compiled either way."""
    if variant is not None:
        return build_variant(variant, steps_per_execution)
    return compile_model(build_model(**(model_kwargs or {})), steps_per_execution)
