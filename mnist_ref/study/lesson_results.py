"""The numbers the lesson reports for its runs, to print and plot beside the measured ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonEpoch:
    """One epoch line of the lesson's Keras output (seconds rounded as Keras prints them)."""

    seconds: float
    loss: float
    accuracy: float
    val_accuracy: float


# batch size -> epoch -> what the lesson's notebook printed for that epoch.
LESSON_EPOCHS: dict[int, dict[int, LessonEpoch]] = {
    100: {1: LessonEpoch(13, 0.4045, 0.8868, 0.9408), 5: LessonEpoch(3, 0.0910, 0.9732, 0.9717)},
    10_000: {1: LessonEpoch(10, 2.2362, 0.1756, 0.3723), 5: LessonEpoch(3, 1.0924, 0.7246, 0.7882)},
    1: {1: LessonEpoch(168, 0.2508, 0.9252, 0.9522), 5: LessonEpoch(139, 0.1329, 0.9672, 0.9630)},
}

# batch size -> test accuracy the lesson reports.
LESSON_TEST_ACCURACY: dict[int, float] = {1: 0.9597}


def lesson_epoch(batch_size: int, epoch: int) -> LessonEpoch | None:
    """The lesson's numbers for this run and epoch, or None where the lesson reports none."""
    return LESSON_EPOCHS.get(batch_size, {}).get(epoch)
