"""What a training run reports: one record per epoch and the whole run, as plain dataclasses."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

NUM_TRAIN = 54_000  # MNIST's 60,000 training images minus the 10% validation split


@dataclass
class EpochRecord:
    """One epoch as Keras reports it, plus its wall time and the optimizer updates it took."""

    epoch: int
    seconds: float
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    updates: int | None = None


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


def full_epoch_steps(batch_size: int, num_train: int = NUM_TRAIN) -> int:
    """Optimizer updates in one full epoch: the number of batches, the last one possibly short."""
    return math.ceil(num_train / batch_size)


def full_epoch_seconds(record: EpochRecord, batch_size: int, num_train: int = NUM_TRAIN) -> float:
    """The epoch's seconds scaled to a full epoch (seconds / updates * full-epoch updates).

    Equal to ``record.seconds`` for a complete epoch; an estimate when a budget cut it short.
    """
    if not record.updates:
        return record.seconds
    return record.seconds / record.updates * full_epoch_steps(batch_size, num_train)
