"""The study's runs: which (batch size or variant, epochs, seed) to train, how many updates each
takes, and running them one after the other under one progress bar."""

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
VARIANT_NAMES = tuple(lesson.VARIANTS)
ALL_VARIANTS = "all"


@dataclass(frozen=True)
class RunSpec:
    """One training run of the study: the lesson's model, or a hyper-parameter ``variant`` of it."""

    batch_size: int
    epochs: int
    seed: int
    variant: str | None = None

    @property
    def label(self) -> str:
        """What the run varies, for progress lines: the variant's name, else the batch size."""
        return self.variant or f"batch {self.batch_size:,}"


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


def check_variant(name: str) -> str:
    """``name`` if it is a variant of :data:`mnist_ref.lesson.VARIANTS` or ``all``; else ValueError."""
    if name != ALL_VARIANTS and name not in lesson.VARIANTS:
        valid = ", ".join(VARIANT_NAMES)
        raise ValueError(f"unknown variant {name!r}; choose from {valid} or {ALL_VARIANTS}")
    return name


def resolve_variants(names: Sequence[str]) -> list[str]:
    """The variants to run, ``all`` expanded, each once; the baseline first (the others pair with it)."""
    expanded = [v for n in names for v in (VARIANT_NAMES if check_variant(n) == ALL_VARIANTS else (n,))]
    return list(dict.fromkeys([lesson.BASELINE.name, *expanded]))


def plan_variant_runs(names: Sequence[str], seeds: int = 1, epochs: int | None = None) -> list[RunSpec]:
    """Every (variant, seed) run at the lesson's batch size and epochs (``epochs`` overrides them)."""
    if seeds < 1 or (epochs is not None and epochs < 1):
        raise ValueError("epochs and seeds must be positive")
    return [RunSpec(lesson.BATCH_SIZE, epochs or lesson.EPOCHS, s, v)
            for v in resolve_variants(names) for s in range(seeds)]


def graded_steps_per_execution(spec: RunSpec) -> int:
    """Steps per call under ``--grading-budget``: the graded notebooks' for variants, 1 for batch sizes.

    Speed only: the same updates in the same order either way.  The batch-size study keeps the
    one step per call it has always measured with.
    """
    return lesson.GRADED_STEPS_PER_EXECUTION if spec.variant else 1


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
    """Train one run: the fast reference engine, or plain Keras under the grader's budget.

    Under the budget a variant stops after ``lesson.HYPERPARAMETER_GRADED_EPOCHS``, as the
    second assignment's graded runs do.
    """
    import tensorflow as tf

    from mnist_ref.training import train

    tf.keras.backend.clear_session()  # drop the previous run's graphs and layer-name counters
    variant = lesson.VARIANTS[spec.variant] if spec.variant else None
    if not grading_budget:
        return train(spec.batch_size, spec.epochs, spec.seed, steps_per_execution=steps_per_execution,
                     on_epoch=on_epoch, on_updates=on_updates, engine="compiled", variant=variant)
    from mnist_ref.budget import MAX_EPOCHS, MAX_UPDATES, TrainingBudget

    spe = graded_steps_per_execution(spec)
    max_epochs = min(MAX_EPOCHS, lesson.HYPERPARAMETER_GRADED_EPOCHS) if variant else MAX_EPOCHS
    return train(spec.batch_size, spec.epochs, spec.seed, steps_per_execution=spe, on_epoch=on_epoch,
                 on_updates=on_updates, engine="keras", callbacks=[TrainingBudget(max_epochs, MAX_UPDATES)],
                 variant=variant)


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
            bar.set_description(f"{spec.label} seed {spec.seed}")
            start = time.perf_counter()

            def show(record: EpochRecord, spec: RunSpec = spec) -> None:
                bar.set_postfix_str(f"epoch {record.epoch}/{spec.epochs} val_acc {record.val_accuracy:.4f}")

            result = run_one(spec, grading_budget, bar.update, show, steps_per_execution)
            last = result.epochs[-1]
            what = f"batch {spec.batch_size:>6,}" if spec.variant is None else f"{spec.variant:>9}"
            bar.write(
                f"{what} seed {spec.seed}: {len(result.epochs)} epoch(s), "
                f"{time.perf_counter() - start:6.1f} s, final val_accuracy {last.val_accuracy:.4f}, "
                f"test accuracy {result.test_accuracy:.4f}",
                file=sys.stderr,
            )
            results.append(result)
        bar.total = bar.n  # a budget or an early stop may end a run sooner than planned
    return results
