"""The hyper-parameter study's tables: each variant over seeds, and paired by seed with the baseline.

Pure Python on :class:`~mnist_ref.records.TrainingResult` lists whose ``variant`` is set: no
TensorFlow, so it is quick to test on hand-made inputs.  "Paired" means each variant run is
compared with the baseline run of the same seed (same initial split, same batches), and the
spread is over those per-seed differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from mnist_ref import lesson
from mnist_ref.records import TrainingResult
from mnist_ref.study.lesson_results import LESSON_TEST_ACCURACY, lesson_epoch
from mnist_ref.study.report import (
    DASH,
    Spread,
    lesson_cell,
    render_markdown,
    render_text,
    spread,
    steady_seconds,
    study_title,
    summarize,
)

BASELINE = lesson.BASELINE.name
Paired = Callable[[TrainingResult, TrainingResult], float]


def variants_in_order(results: Sequence[TrainingResult]) -> list[str]:
    """Variant names in the order the study ran them (runs without a variant left out)."""
    return list(dict.fromkeys(r.variant for r in results if r.variant))


def variant_runs(results: Sequence[TrainingResult], name: str) -> list[TrainingResult]:
    """The runs of one variant that trained at least one epoch."""
    return [r for r in results if r.variant == name and r.epochs]


def val_accuracy_at(run: TrainingResult, epoch: int) -> float:
    """Validation accuracy after ``epoch`` (NaN if the run did not reach it)."""
    return next((e.val_accuracy for e in run.epochs if e.epoch == epoch), math.nan)


def final_val_accuracy(run: TrainingResult) -> float:
    """Validation accuracy after the run's last epoch."""
    return run.epochs[-1].val_accuracy


# Per seed: (variant run, baseline run) -> the number compared.
PAIRED: dict[str, Paired] = {
    "epoch1_val_accuracy_diff": lambda v, b: val_accuracy_at(v, 1) - val_accuracy_at(b, 1),
    "final_val_accuracy_diff": lambda v, b: final_val_accuracy(v) - final_val_accuracy(b),
    "seconds_ratio": lambda v, b: steady_seconds(v) / steady_seconds(b),
}


def paired_spread(results: Sequence[TrainingResult], name: str, value: Paired) -> Spread:
    """Spread over seeds of ``value(variant run, baseline run of the same seed)``; unpaired seeds left out."""
    baseline = {r.seed: r for r in variant_runs(results, BASELINE)}
    return spread([value(r, baseline[r.seed]) for r in variant_runs(results, name) if r.seed in baseline])


def summarize_variants(results: Sequence[TrainingResult]) -> list[dict]:
    """Per variant: its settings, per-epoch spreads (as the batch-size summary), and the paired numbers."""
    summary = []
    for name in variants_in_order(results):
        runs = variant_runs(results, name)
        if not runs:
            continue
        v = lesson.VARIANTS.get(name)
        (entry,) = summarize(runs)  # all at one batch size: one entry
        summary.append({
            "variant": name,
            "exercise": v and v.exercise,
            "change": v and v.change,
            "widths": v and list(v.widths),
            "activations": v and list(v.activations),
            "learning_rate": v and v.learning_rate,
            **entry,
            "epoch1_val_accuracy": spread([val_accuracy_at(r, 1) for r in runs]).to_dict(),
            "steady_seconds": spread([steady_seconds(r) for r in runs]).to_dict(),
            "paired_with_baseline": {k: paired_spread(results, name, f).to_dict() for k, f in PAIRED.items()},
        })
    return summary


def _lesson_row(name: str, runs: Sequence[TrainingResult]) -> tuple[str, str, str, str]:
    """The lesson's epoch-1 and last-epoch val_accuracy, test accuracy and seconds: baseline only."""
    if name != BASELINE:
        return DASH, DASH, DASH, DASH
    first = lesson_epoch(lesson.BATCH_SIZE, 1)
    last = lesson_epoch(lesson.BATCH_SIZE, max(len(r.epochs) for r in runs))
    return (lesson_cell(first and first.val_accuracy, 4), lesson_cell(last and last.val_accuracy, 4),
            lesson_cell(LESSON_TEST_ACCURACY.get(lesson.BATCH_SIZE), 4),
            lesson_cell(last and last.seconds, 0))


def accuracy_table(results: Sequence[TrainingResult]) -> tuple[list[str], list[list[str]]]:
    """Rows per variant: val_accuracy after epoch 1 and the last, test accuracy, s/epoch; the lesson's."""
    headers = ["variant", "change", "ex.", "seeds", "val_acc epoch 1", "lesson", "final val_acc", "lesson",
               "test accuracy", "lesson", "s/epoch (2+)", "lesson"]
    rows = []
    for name in variants_in_order(results):
        runs = variant_runs(results, name)
        if not runs:
            continue
        v = lesson.VARIANTS.get(name)
        first, last, test, seconds = _lesson_row(name, runs)
        rows.append([
            name, DASH if v is None else v.change, DASH if v is None else str(v.exercise), str(len(runs)),
            spread([val_accuracy_at(r, 1) for r in runs]).format(4), first,
            spread([final_val_accuracy(r) for r in runs]).format(4), last,
            spread([r.test_accuracy for r in runs]).format(4), test,
            spread([steady_seconds(r) for r in runs]).format(2), seconds,
        ])
    return headers, rows


def paired_table(results: Sequence[TrainingResult]) -> tuple[list[str], list[list[str]]]:
    """Rows per variant: differences from the baseline run of the same seed, and the time ratio."""
    headers = ["variant", "pairs", "Δ val_acc epoch 1", "Δ final val_acc", "s/epoch ratio"]
    rows = []
    for name in variants_in_order(results):
        if name == BASELINE:
            continue
        first, final, ratio = (paired_spread(results, name, PAIRED[k]) for k in PAIRED)
        rows.append([name, str(final.n), first.format(4, sign=True), final.format(4, sign=True),
                     ratio.format(2)])
    return headers, rows


def _title(results: Sequence[TrainingResult], grading_budget: bool) -> str:
    return study_title(results, grading_budget, "hyper-parameter", f", batch {lesson.BATCH_SIZE}")


NOTE = (
    "s/epoch (2+) = median seconds per full epoch over epochs 2 onwards (epoch 1 includes tracing). "
    f"Δ = variant minus the {BASELINE} run of the same seed; ratio = variant's s/epoch / the {BASELINE}'s."
)


Table = tuple[list[str], list[list[str]]]


def _tables(results: Sequence[TrainingResult]) -> list[tuple[str, Table, int]]:
    """(heading, table, left-aligned columns); the paired table only if a variant besides the baseline ran."""
    tables = [("Each variant", accuracy_table(results), 2)]
    paired = paired_table(results)
    if paired[1]:
        tables.append((f"Paired by seed with the {BASELINE}", paired, 1))
    return tables


def variant_report_text(results: Sequence[TrainingResult], grading_budget: bool = False) -> str:
    """Both tables as plain text, for the terminal."""
    tables = [render_text(*table, left=left) for _, table, left in _tables(results)]
    return "\n\n".join([_title(results, grading_budget), *tables, NOTE])


def variant_report_markdown(results: Sequence[TrainingResult], grading_budget: bool = False) -> str:
    """Both tables as Markdown, for the --out folder."""
    parts = [f"# {_title(results, grading_budget)}"]
    for heading, table, left in _tables(results):
        parts += [f"## {heading}", render_markdown(*table, left=left)]
    return "\n\n".join([*parts, NOTE]) + "\n"
