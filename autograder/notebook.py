"""What the student's notebook imports: the grading budget and a plot of the student's own runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnist_ref.budget import MAX_EPOCHS, MAX_UPDATES, grading_budget, under_grading

__all__ = ["MAX_EPOCHS", "MAX_UPDATES", "grading_budget", "plot_runs", "under_grading"]


def plot_runs(histories: Mapping[str, Any], metric: str = "val_accuracy"):
    """Plot ``metric`` per epoch for each run (label -> Keras History); returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, history in histories.items():
        values = (getattr(history, "history", None) or {}).get(metric)
        if values:
            ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ').capitalize()} per epoch, by batch size")
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    return fig
