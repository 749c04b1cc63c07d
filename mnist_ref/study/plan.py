"""The study's runs: which (batch size, epochs, seed) to train, how many updates each takes, and
running them one after the other under one progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mnist_ref import lesson
from mnist_ref.records import EpochRecord, TrainingResult

LESSON_BATCH_SIZES = (
    lesson.SGD_BATCH_SIZE, lesson.BATCH_SIZE, lesson.LARGE_BATCH_SIZE, *lesson.LONG_RUN_BATCH_SIZES
)
SHORT_EPOCHS = lesson.EPOCHS
LONG_EPOCHS = lesson.LONG_RUN_EPOCHS
LONG_FROM_BATCH_SIZE = min(lesson.LONG_RUN_BATCH_SIZES)  # the lesson's "about 100 epochs" runs
# (max epochs, max updates) per run while nbgrader grades: what mnist_ref.budget enforces there.
GRADING_BUDGET = (lesson.BUDGET_MAX_EPOCHS, lesson.BUDGET_MAX_UPDATES)


@dataclass(frozen=True)
class RunSpec:
    """One training run of the study."""

    batch_size: int
    epochs: int
    seed: int


def lesson_epochs(batch_size: int) -> int:
    """The lesson's epochs for a batch size: 5, or 100 for the 30,000 and 50,000 runs."""
    return LONG_EPOCHS if batch_size >= LONG_FROM_BATCH_SIZE else SHORT_EPOCHS


def plan_runs(
    batch_sizes: Sequence[int] = LESSON_BATCH_SIZES, epochs: int | None = None, seeds: int = 1
) -> list[RunSpec]:
    """Every (batch size, seed) run, seeds 0..seeds-1; ``epochs`` overrides the lesson's."""
    if seeds < 1 or any(b < 1 for b in batch_sizes) or (epochs is not None and epochs < 1):
        raise ValueError("batch sizes, epochs and seeds must be positive")
    return [RunSpec(b, epochs or lesson_epochs(b), s) for b in batch_sizes for s in range(seeds)]


def planned_updates(
    spec: RunSpec, budget: tuple[int, int] | None = None, num_train: int = lesson.NUM_TRAIN
) -> int:
    """Optimizer updates the run will take; ``budget`` = (max epochs, max updates) caps them."""
    steps = lesson.full_epoch_steps(spec.batch_size, num_train)
    if budget is None:
        return spec.epochs * steps
    max_epochs, max_updates = budget
    return min(min(spec.epochs, max_epochs) * steps, max_updates)


def run_one(
    spec: RunSpec,
    grading_budget: bool = False,
    on_updates: Callable[[int], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    steps_per_execution: int | None = None,
) -> TrainingResult:
    """Train one run: the fast reference engine, or plain Keras under the grader's budget."""
    import tensorflow as tf

    from mnist_ref.training import train

    tf.keras.backend.clear_session()  # drop the previous run's graphs and layer-name counters
    if not grading_budget:
        return train(spec.batch_size, spec.epochs, spec.seed, steps_per_execution=steps_per_execution,
                     on_epoch=on_epoch, on_updates=on_updates, engine="compiled")
    from mnist_ref.budget import MAX_EPOCHS, MAX_UPDATES, TrainingBudget

    return train(spec.batch_size, spec.epochs, spec.seed, steps_per_execution=1, on_epoch=on_epoch,
                 on_updates=on_updates, engine="keras", callbacks=[TrainingBudget(MAX_EPOCHS, MAX_UPDATES)])


def run_study(
    specs: Sequence[RunSpec],
    grading_budget: bool = False,
    steps_per_execution: int | None = None,
    progress: bool = True,
) -> list[TrainingResult]:
    """Run every spec in order under one tqdm bar (total = all updates, on stderr)."""
    from tqdm import tqdm

    budget = GRADING_BUDGET if grading_budget else None
    total = sum(planned_updates(s, budget) for s in specs)
    results = []
    with tqdm(total=total, unit="upd", unit_scale=True, file=sys.stderr, disable=not progress,
              dynamic_ncols=True, smoothing=0.05) as bar:
        for spec in specs:
            bar.set_description(f"batch {spec.batch_size:,} seed {spec.seed}")
            start = time.perf_counter()

            def show(record: EpochRecord, spec: RunSpec = spec) -> None:
                bar.set_postfix_str(f"epoch {record.epoch}/{spec.epochs} val_acc {record.val_accuracy:.4f}")

            result = run_one(spec, grading_budget, bar.update, show, steps_per_execution)
            last = result.epochs[-1]
            bar.write(
                f"batch {spec.batch_size:>6,} seed {spec.seed}: {len(result.epochs)} epoch(s), "
                f"{time.perf_counter() - start:6.1f} s, final val_accuracy {last.val_accuracy:.4f}, "
                f"test accuracy {result.test_accuracy:.4f}",
                file=sys.stderr,
            )
            results.append(result)
        bar.total = bar.n  # a budget or an early stop may end a run sooner than planned
    return results
