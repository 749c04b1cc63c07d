"""What a training run reports: one record per epoch and the whole run, as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from mnist_ref import lesson


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
    """A whole run: its configuration, every epoch and the test evaluation.

    ``variant`` names the hyper-parameter exercise's model (:data:`mnist_ref.lesson.VARIANTS`);
    None for the lesson's own model, as in the batch-size study.
    """

    batch_size: int
    seed: int
    epochs: list[EpochRecord] = field(default_factory=list)
    test_loss: float = float("nan")
    test_accuracy: float = float("nan")
    variant: str | None = None


def full_epoch_seconds(record: EpochRecord, batch_size: int, num_train: int = lesson.NUM_TRAIN) -> float:
    """The epoch's seconds scaled to a full epoch (seconds / updates * full-epoch updates).

    Equal to ``record.seconds`` for a complete epoch; an estimate when a budget cut it short.
    """
    steps = lesson.full_epoch_steps(batch_size, num_train)
    return lesson.full_epoch_seconds(record.seconds, record.updates, steps)
