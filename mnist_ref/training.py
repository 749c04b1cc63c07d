"""Train and evaluate the reference model, recording seconds, loss and accuracy per epoch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import tensorflow as tf

from mnist_ref.data import MnistSplits, load_splits
from mnist_ref.model import build_model, compile_model

DEFAULT_SEED = 0


@dataclass
class EpochRecord:
    """One epoch as Keras reports it, plus its wall time."""

    epoch: int
    seconds: float
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float


@dataclass
class TrainingResult:
    """A whole run: its configuration, every epoch and the test evaluation."""

    batch_size: int
    seed: int
    epochs: list[EpochRecord] = field(default_factory=list)
    test_loss: float = float("nan")
    test_accuracy: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


class EpochRecorder(tf.keras.callbacks.Callback):
    """Times each epoch and turns Keras's logs into EpochRecords, calling ``on_epoch`` for each."""

    def __init__(self, on_epoch: Callable[[EpochRecord], None] | None = None):
        super().__init__()
        self.records: list[EpochRecord] = []
        self._on_epoch = on_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        record = EpochRecord(
            epoch=epoch + 1,
            seconds=time.perf_counter() - self._start,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=float(logs.get("val_loss", float("nan"))),
            val_accuracy=float(logs.get("val_accuracy", float("nan"))),
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
    batch_size: int = 100,
    epochs: int = 5,
    seed: int = DEFAULT_SEED,
    splits: MnistSplits | None = None,
    steps_per_execution: int = 1,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    model_kwargs: dict | None = None,
) -> TrainingResult:
    """Build, compile and fit the lesson's model, then evaluate it on the test set."""
    seed_everything(seed)
    splits = splits or load_splits(batch_size)
    if splits.batch_size != batch_size:
        raise ValueError(f"splits are batched by {splits.batch_size}, not {batch_size}")
    model = compile_model(build_model(**(model_kwargs or {})), steps_per_execution)
    recorder = EpochRecorder(on_epoch)
    model.fit(
        splits.train,
        epochs=epochs,
        validation_data=splits.validation,
        callbacks=[recorder],
        shuffle=False,  # the dataset reshuffles itself; saying so silences Keras's warning
        verbose=0,
    )
    test_loss, test_accuracy = model.evaluate(splits.test, verbose=0)
    return TrainingResult(batch_size, seed, recorder.records, float(test_loss), float(test_accuracy))
