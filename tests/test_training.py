"""Training the reference actually learns: one epoch at batch size 100 passes 0.90 validation accuracy."""

from __future__ import annotations

import math

import pytest

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("prepared_mnist")]


def test_one_epoch_at_batch_100_reaches_090_validation_accuracy():
    """540 updates of Adam are enough for > 90% on the held-out 6,000 images."""
    from mnist_ref.training import train

    result = train(batch_size=100, epochs=1, seed=0)
    (epoch,) = result.epochs
    print(f"epoch 1: {epoch}; test accuracy {result.test_accuracy:.4f}")
    assert epoch.epoch == 1 and epoch.seconds > 0
    assert epoch.val_accuracy >= 0.90
    assert 0.0 < epoch.loss < 1.0 and epoch.accuracy > 0.8
    assert math.isfinite(result.test_accuracy) and result.test_accuracy >= 0.90


def test_train_command_prints_a_line_per_epoch_and_the_test_accuracy():
    """`python -m mnist_ref train` reports like the lesson: per epoch, then test accuracy."""
    from tests.helpers import run_module

    proc = run_module("mnist_ref", "train", "--batch-size", "1000", "--epochs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("Epoch ")]
    assert len(lines) == 2 and "val_accuracy:" in lines[1]
    assert "Test accuracy:" in proc.stdout
