"""Median and spread over seeds, and the study's tables beside the lesson's numbers (text, Markdown).

Pure Python on :class:`~mnist_ref.records.TrainingResult` lists: no TensorFlow, so it is quick
to test on hand-made inputs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mnist_ref.records import EpochRecord, TrainingResult, full_epoch_seconds
from mnist_ref.study.lesson_results import LESSON_TEST_ACCURACY, lesson_epoch

DASH = "—"
EPOCH_METRICS = ("seconds", "loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of one number over seeds (NaN when there are no values)."""

    median: float
    low: float
    high: float
    n: int

    def format(self, digits: int, sign: bool = False) -> str:
        """``median`` alone for one value, else ``median [min–max]``; ``sign`` shows + on differences."""
        if self.n == 0:
            return DASH
        spec = f"{'+' if sign else ''}.{digits}f"
        text = format(self.median, spec)
        return text if self.n == 1 else f"{text} [{format(self.low, spec)}–{format(self.high, spec)}]"

    def to_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


def spread(values: Sequence[float]) -> Spread:
    """Median and min–max of ``values``, leaving out NaNs (a metric a run did not report)."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    if not finite:
        return Spread(math.nan, math.nan, math.nan, 0)
    return Spread(statistics.median(finite), min(finite), max(finite), len(finite))


def batch_sizes_in_order(results: Sequence[TrainingResult]) -> list[int]:
    """Batch sizes in the order the study ran them."""
    return list(dict.fromkeys(r.batch_size for r in results))


def _records(results: Sequence[TrainingResult], batch_size: int, epoch: int) -> list[EpochRecord]:
    return [e for r in results if r.batch_size == batch_size for e in r.epochs if e.epoch == epoch]


def epoch_spread(
    results: Sequence[TrainingResult], batch_size: int, epoch: int,
    value: Callable[[EpochRecord], float],
) -> Spread:
    """Spread over seeds of ``value(record)`` for one batch size and epoch."""
    return spread([value(e) for e in _records(results, batch_size, epoch)])


def final_spread(
    results: Sequence[TrainingResult], batch_size: int, value: Callable[[EpochRecord, int], float]
) -> Spread:
    """Spread over seeds of ``value(last epoch, batch size)``: where each run ended."""
    runs = [r for r in results if r.batch_size == batch_size and r.epochs]
    return spread([value(r.epochs[-1], r.batch_size) for r in runs])


def steady_seconds(run: TrainingResult) -> float:
    """A run's typical full-epoch seconds: median over epochs after the first (which compiles)."""
    later = run.epochs[1:] or run.epochs
    return statistics.median(full_epoch_seconds(e, run.batch_size) for e in later)


def summarize(results: Sequence[TrainingResult]) -> list[dict]:
    """Per batch size: epoch-by-epoch spreads of every metric, and where the runs ended."""
    summary = []
    for b in batch_sizes_in_order(results):
        runs = [r for r in results if r.batch_size == b]
        epochs = sorted({e.epoch for r in runs for e in r.epochs})
        summary.append({
            "batch_size": b,
            "seeds": [r.seed for r in runs],
            "epochs": [
                {"epoch": n, **{m: epoch_spread(runs, b, n, _metric(m)).to_dict() for m in EPOCH_METRICS},
                 "updates": epoch_spread(runs, b, n, lambda e: e.updates or math.nan).to_dict(),
                 "full_epoch_seconds": epoch_spread(runs, b, n, _full_seconds(b)).to_dict()}
                for n in epochs
            ],
            "final_val_accuracy": final_spread(runs, b, lambda e, _: e.val_accuracy).to_dict(),
            "final_full_epoch_seconds": final_spread(runs, b, full_epoch_seconds).to_dict(),
            "test_accuracy": spread([r.test_accuracy for r in runs]).to_dict(),
        })
    return summary


def _metric(name: str) -> Callable[[EpochRecord], float]:
    return lambda e: float(getattr(e, name))


def _full_seconds(batch_size: int) -> Callable[[EpochRecord], float]:
    return lambda e: full_epoch_seconds(e, batch_size)


def lesson_cell(value: float | None, digits: int) -> str:
    """The lesson's number for a table cell, or a dash where the lesson gives none."""
    return DASH if value is None else f"{value:.{digits}f}"


def shown_epochs(results: Sequence[TrainingResult], batch_size: int) -> list[int]:
    """The epochs worth a table row: the first, the lesson's fifth, and the last one run."""
    ran = {e.epoch for r in results if r.batch_size == batch_size for e in r.epochs}
    return sorted(ran & {1, 5, max(ran, default=1)})


def epoch_table(results: Sequence[TrainingResult]) -> tuple[list[str], list[list[str]]]:
    """Rows per batch size and shown epoch: measured median [min–max] next to the lesson's value."""
    headers = [
        "batch", "epoch", "updates", "seconds", "lesson", "full-epoch s", "loss", "lesson",
        "accuracy", "lesson", "val_accuracy", "lesson",
    ]
    rows = []
    for b in batch_sizes_in_order(results):
        for n in shown_epochs(results, b):
            lesson = lesson_epoch(b, n)
            rows.append([
                f"{b:,}", str(n),
                epoch_spread(results, b, n, lambda e: e.updates or math.nan).format(0),
                epoch_spread(results, b, n, _metric("seconds")).format(2),
                lesson_cell(lesson and lesson.seconds, 0),
                epoch_spread(results, b, n, _full_seconds(b)).format(2),
                epoch_spread(results, b, n, _metric("loss")).format(4),
                lesson_cell(lesson and lesson.loss, 4),
                epoch_spread(results, b, n, _metric("accuracy")).format(4),
                lesson_cell(lesson and lesson.accuracy, 4),
                epoch_spread(results, b, n, _metric("val_accuracy")).format(4),
                lesson_cell(lesson and lesson.val_accuracy, 4),
            ])
    return headers, rows


def final_table(results: Sequence[TrainingResult]) -> tuple[list[str], list[list[str]]]:
    """Rows per batch size: where the runs ended (last epoch) and their test accuracy."""
    headers = [
        "batch", "seeds", "epochs run", "final val_accuracy", "full-epoch s (last epoch)",
        "test accuracy", "lesson",
    ]
    rows = []
    for b in batch_sizes_in_order(results):
        runs = [r for r in results if r.batch_size == b]
        rows.append([
            f"{b:,}", str(len(runs)),
            spread([len(r.epochs) for r in runs]).format(0),
            final_spread(runs, b, lambda e, _: e.val_accuracy).format(4),
            final_spread(runs, b, full_epoch_seconds).format(2),
            spread([r.test_accuracy for r in runs]).format(4),
            lesson_cell(LESSON_TEST_ACCURACY.get(b), 4),
        ])
    return headers, rows


def render_text(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 0) -> str:
    """A plain fixed-width table: numbers right-aligned under their headers, the first ``left`` left."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def render_markdown(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 0) -> str:
    """A GitHub-flavoured Markdown table, numbers right-aligned, the first ``left`` columns left-aligned."""
    align = ["---" if i < left else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def study_title(results: Sequence[TrainingResult], grading_budget: bool, study: str = "batch-size",
                extra: str = "") -> str:
    """The tables' title: which study, full or budgeted runs, and the seeds."""
    seeds = sorted({r.seed for r in results})
    what = "reduced grading budget, plain Keras" if grading_budget else "full runs"
    return (
        f"MNIST {study} study ({what}{extra}): median [min–max] over {len(seeds)} seed(s) "
        f"{seeds}; 'lesson' = the lesson's reported numbers"
    )


NOTE = (
    "full-epoch s = seconds / updates * full-epoch updates (equals seconds unless the budget "
    "cut the epoch short). Epoch 1 includes tracing/compilation."
)


def report_text(results: Sequence[TrainingResult], grading_budget: bool = False) -> str:
    """Both tables as plain text, for the terminal."""
    return "\n\n".join([
        study_title(results, grading_budget), render_text(*epoch_table(results)),
        render_text(*final_table(results)), NOTE,
    ])


def report_markdown(results: Sequence[TrainingResult], grading_budget: bool = False) -> str:
    """Both tables as Markdown, for the --out folder."""
    return "\n\n".join([
        f"# {study_title(results, grading_budget)}", "## Per epoch", render_markdown(*epoch_table(results)),
        "## Where the runs ended", render_markdown(*final_table(results)), NOTE,
    ]) + "\n"
