"""The study's plots as PNG files: validation accuracy per epoch, and seconds and updates per epoch.

Uses matplotlib's ``Figure`` with the Agg canvas directly, so no GUI backend or global pyplot
state is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from mnist_ref.lesson import BATCH_SIZE, NUM_TRAIN, NUM_VALIDATION, full_epoch_steps
from mnist_ref.records import TrainingResult, full_epoch_seconds
from mnist_ref.study.lesson_results import LESSON_EPOCHS
from mnist_ref.study.report import batch_sizes_in_order, spread, steady_seconds
from mnist_ref.study.variant_report import BASELINE, val_accuracy_at, variant_runs, variants_in_order

PLOT_FILES = ("val_accuracy.png", "seconds_per_epoch.png", "updates_per_epoch.png")
VARIANT_PLOT_FILES = PLOT_FILES[:2]  # updates per epoch are the same for every variant
_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")


def _figure(width: float = 8.0, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _colors(keys: Sequence, cmap_name: str = "viridis") -> dict:
    from matplotlib import colormaps

    cmap = colormaps[cmap_name]
    if cmap_name == "tab10":  # qualitative: one distinct colour each
        return {k: cmap(i % 10) for i, k in enumerate(keys)}
    n = max(len(keys) - 1, 1)
    return {k: cmap(0.9 * i / n) for i, k in enumerate(keys)}


def plot_val_accuracy(results: Sequence[TrainingResult], path: Path, subtitle: str = "") -> Path:
    """Median validation accuracy per epoch for each batch size, min–max band over seeds."""
    fig = _figure()
    ax = fig.add_subplot()
    sizes = batch_sizes_in_order(results)
    colors = _colors(sizes)
    for b in sizes:
        runs = [r for r in results if r.batch_size == b]
        epochs = sorted({e.epoch for r in runs for e in r.epochs})
        spreads = [spread([e.val_accuracy for r in runs for e in r.epochs if e.epoch == n]) for n in epochs]
        med = [s.median for s in spreads]
        ax.plot(epochs, med, marker="o", markersize=3 if len(epochs) > 1 else 6, color=colors[b],
                label=f"batch {b:,}")
        if len(runs) > 1 and len(epochs) == 1:  # a band needs two epochs: draw the range as a bar
            ax.errorbar(epochs, med, yerr=[[med[0] - spreads[0].low], [spreads[0].high - med[0]]],
                        color=colors[b], capsize=5)
        elif len(runs) > 1:
            ax.fill_between(epochs, [s.low for s in spreads], [s.high for s in spreads],
                            color=colors[b], alpha=0.2, linewidth=0)
        lesson = LESSON_EPOCHS.get(b, {})
        if lesson:
            ax.plot(list(lesson), [e.val_accuracy for e in lesson.values()], linestyle="none",
                    marker="D", markersize=8, markerfacecolor="none", markeredgewidth=1.5,
                    color=colors[b], label=f"lesson, batch {b:,}")
    ax.set_xscale("log")
    last = max((e.epoch for r in results for e in r.epochs), default=1)
    ax.set_xticks([t for t in (1, 2, 3, 4, 5, 10, 20, 30, 50, 100, 200, 500, 1000) if t <= max(last, 5)])
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1)
    ax.set_xlabel("epoch (log scale)")
    return _finish_accuracy(fig, ax, "Validation accuracy per epoch by batch size", subtitle, path, "both")


def plot_seconds(results: Sequence[TrainingResult], path: Path, subtitle: str = "") -> Path:
    """Seconds per (full) epoch against batch size, log-log, beside the lesson's timings."""
    fig = _figure()
    ax = fig.add_subplot()
    sizes = batch_sizes_in_order(results)
    steady = [spread([steady_seconds(r) for r in results if r.batch_size == b and r.epochs]) for b in sizes]
    first = [spread([full_epoch_seconds(r.epochs[0], b) for r in results if r.batch_size == b and r.epochs])
             for b in sizes]
    series = (("measured, epochs 2+ (or the only one)", steady, "o"), ("measured, epoch 1", first, "s"))
    for label, points, marker in series:
        med = np.array([s.median for s in points])
        err = np.array([med - [s.low for s in points], [s.high for s in points] - med])
        ax.errorbar(sizes, med, yerr=err, marker=marker, capsize=4, label=label)
    for epoch, marker in ((5, "D"), (1, "^")):
        lesson = [(b, e[epoch].seconds) for b, e in sorted(LESSON_EPOCHS.items()) if epoch in e]
        ax.plot(*zip(*lesson, strict=True), linestyle="--", marker=marker, markerfacecolor="none",
                color="grey", label=f"lesson, epoch {epoch}")
    for i, (b, s) in enumerate(zip(sizes, steady, strict=True)):
        ax.annotate(f"{s.median:.2g} s", (b, s.median), textcoords="offset points",
                    xytext=(6, 6 if i % 2 == 0 else -14), fontsize="small")  # alternate: no overlaps
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.6, max([*sizes, 10_000]) * 3)  # room for the labels right of the points
    low, high = ax.get_ylim()
    ax.set_ylim(low / 2, high)  # ... and below the lowest one
    return _finish_log_log(fig, ax, "seconds per full epoch", "Wall time per epoch against batch size",
                           subtitle, path)


def _finish_accuracy(fig, ax, title: str, subtitle: str, path: Path, grid: str = "major") -> Path:
    """Label, title, grid and legend shared by the validation-accuracy plots; saves to ``path``."""
    ax.set_ylabel(f"validation accuracy ({NUM_VALIDATION:,} held-out images)")
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""))
    ax.grid(True, which=grid, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small", ncol=2)
    fig.savefig(path)
    return path


def _finish_log_log(fig, ax, ylabel: str, title: str, subtitle: str, path: Path) -> Path:
    """Labels, grid and legend shared by the plots against batch size (log axes); saves to ``path``."""
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel("batch size (log scale)")
    ax.set_ylabel(f"{ylabel} (log scale)")
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.savefig(path)
    return path


def plot_updates(results: Sequence[TrainingResult], path: Path, subtitle: str = "") -> Path:
    """Optimizer updates per full epoch against batch size, log-log: ceil(NUM_TRAIN / batch)."""
    fig = _figure()
    ax = fig.add_subplot()
    sizes = batch_sizes_in_order(results)
    curve = np.unique(np.geomspace(1, NUM_TRAIN, 200).astype(int))
    ax.plot(curve, [full_epoch_steps(int(b)) for b in curve], color="grey", linewidth=1,
            label=f"ceil({NUM_TRAIN:,} / batch size)")
    measured = [max((e.updates or 0) for r in results if r.batch_size == b for e in r.epochs) for b in sizes]
    ax.plot(sizes, measured, linestyle="none", marker="o", markersize=8,
            label="measured (the most updates any epoch took)")
    for b, u in zip(sizes, measured, strict=True):
        ax.annotate(f"{u:,}", (b, u), textcoords="offset points", xytext=(8, 4), fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    return _finish_log_log(fig, ax, "updates per epoch", "Optimizer updates per epoch against batch size",
                           subtitle, path)


def write_plots(results: Sequence[TrainingResult], out_dir: Path, subtitle: str = "") -> list[Path]:
    """All three plots into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    val, sec, upd = (out_dir / name for name in PLOT_FILES)
    return [
        plot_val_accuracy(results, val, subtitle),
        plot_seconds(results, sec, subtitle),
        plot_updates(results, upd, subtitle),
    ]


def plot_variant_val_accuracy(results: Sequence[TrainingResult], path: Path, subtitle: str = "") -> Path:
    """Median validation accuracy per epoch for each variant, min–max band over seeds; the lesson's."""
    fig = _figure()
    ax = fig.add_subplot()
    names = variants_in_order(results)
    colors = _colors(names, "tab10")
    for name in names:
        runs = variant_runs(results, name)
        epochs = sorted({e.epoch for r in runs for e in r.epochs})
        spreads = [spread([val_accuracy_at(r, n) for r in runs]) for n in epochs]
        med = [s.median for s in spreads]
        ax.plot(epochs, med, marker="o", markersize=4, color=colors[name], label=name,
                linewidth=2.5 if name == BASELINE else 1.5)
        if len(runs) > 1:
            low, high = [s.low for s in spreads], [s.high for s in spreads]
            if len(epochs) == 1:  # a band needs two epochs: draw the range as a bar
                ax.errorbar(epochs, med, yerr=[[med[0] - low[0]], [high[0] - med[0]]], color=colors[name],
                            capsize=5)
            else:
                ax.fill_between(epochs, low, high, color=colors[name], alpha=0.15, linewidth=0)
    lesson = LESSON_EPOCHS.get(BATCH_SIZE, {})
    if BASELINE in names and lesson:
        ax.plot(list(lesson), [e.val_accuracy for e in lesson.values()], linestyle="none", marker="D",
                markersize=8, markerfacecolor="none", markeredgewidth=1.5, color=colors[BASELINE],
                label=f"lesson ({BASELINE})")
    last = max((e.epoch for r in results for e in r.epochs), default=1)
    ax.set_xticks(range(1, last + 1))
    ax.set_ylim(top=1.0)
    ax.set_xlabel("epoch")
    return _finish_accuracy(fig, ax, f"Validation accuracy per epoch by variant (batch {BATCH_SIZE})",
                            subtitle, path)


def plot_variant_seconds(results: Sequence[TrainingResult], path: Path, subtitle: str = "") -> Path:
    """Seconds per epoch for each variant: median bar with min–max over seeds, epochs 2+ and epoch 1."""
    fig = _figure()
    ax = fig.add_subplot()
    names = variants_in_order(results)
    y = np.arange(len(names))
    steady = [spread([steady_seconds(r) for r in variant_runs(results, n)]) for n in names]
    first = [spread([full_epoch_seconds(r.epochs[0], r.batch_size) for r in variant_runs(results, n)])
             for n in names]
    med = np.array([s.median for s in steady])
    err = np.array([med - [s.low for s in steady], [s.high for s in steady] - med])
    ax.barh(y, med, xerr=err, capsize=4, color="tab:blue", alpha=0.7, label="epochs 2+ (median, min–max)")
    ax.plot([s.median for s in first], y, linestyle="none", marker="s", color="tab:orange",
            label="epoch 1 (includes tracing)")
    for i, s in enumerate(steady):
        ax.annotate(f"{s.median:.2f} s", (s.high, i), textcoords="offset points", xytext=(6, -4),
                    fontsize="small")
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # the baseline on top, as in the tables
    ax.set_xlim(0, max([*[s.high for s in steady], *[s.median for s in first]]) * 1.2)
    ax.set_xlabel("seconds per full epoch")
    title = f"Wall time per epoch by variant (batch {BATCH_SIZE})"
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""))
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.savefig(path)
    return path


def write_variant_plots(results: Sequence[TrainingResult], out_dir: Path, subtitle: str = "") -> list[Path]:
    """Both variant plots into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    val, sec = (out_dir / name for name in VARIANT_PLOT_FILES)
    subtitle = subtitle.replace("; ", "\n")  # two short lines fit the narrower seconds plot
    return [plot_variant_val_accuracy(results, val, subtitle), plot_variant_seconds(results, sec, subtitle)]
