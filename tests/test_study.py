"""`python -m mnist_ref study`: one JSON object, its output folder, the tables beside the lesson's
numbers, median/spread over seeds, and the fast reference agreeing with plain Keras."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mnist_ref.records import EpochRecord, TrainingResult
from mnist_ref.study.plan import RunSpec, plan_runs, planned_updates
from mnist_ref.study.report import report_markdown, report_text, spread, summarize
from tests.helpers import run_module

EPOCH_KEYS = {"epoch": int, "seconds": float, "loss": float, "accuracy": float,
              "val_loss": float, "val_accuracy": float}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(batch_size: int, seed: int, val_accuracies: list[float], seconds: float = 2.0) -> TrainingResult:
    """A hand-made run: epoch n has loss 1/n, accuracy = val_accuracy - 0.01."""
    epochs = [
        EpochRecord(n, seconds, 1.0 / n, v - 0.01, 1.0 / n + 0.05, v, updates=54_000 // batch_size)
        for n, v in enumerate(val_accuracies, start=1)
    ]
    return TrainingResult(batch_size, seed, epochs, 0.1, val_accuracies[-1] - 0.005)


def test_spread_is_the_median_and_min_max_over_seeds():
    """Odd and even counts, NaNs left out, nothing at all; and how a spread prints."""
    s = spread([0.97, 0.95, 0.96])
    assert (s.median, s.low, s.high, s.n) == (0.96, 0.95, 0.97, 3)
    assert spread([1.0, 2.0, 3.0, 10.0]).median == 2.5
    assert spread([0.5, float("nan")]) == spread([0.5])
    assert spread([]).n == 0 and math.isnan(spread([]).median)
    assert spread([0.9, 0.8]).format(2) == "0.85 [0.80–0.90]"
    assert spread([0.9]).format(4) == "0.9000"
    assert spread([]).format(4) == "—"


def test_summary_groups_runs_by_batch_size_and_epoch():
    """Three seeds of batch 100: per-epoch spreads, where the runs ended, test accuracy."""
    runs = [_run(100, s, [0.90 + 0.01 * s, 0.95 + 0.01 * s]) for s in range(3)]
    (entry,) = summarize(runs)
    assert entry["batch_size"] == 100 and entry["seeds"] == [0, 1, 2]
    epoch2 = entry["epochs"][1]
    assert epoch2["epoch"] == 2
    assert epoch2["val_accuracy"] == pytest.approx({"median": 0.96, "min": 0.95, "max": 0.97, "n": 3})
    assert epoch2["updates"]["median"] == 540
    assert entry["final_val_accuracy"]["median"] == pytest.approx(0.96)
    assert entry["final_full_epoch_seconds"]["median"] == pytest.approx(2.0)


def test_budget_cut_epochs_are_scaled_to_a_full_epoch():
    """3,000 of batch 1's 54,000 updates in 6 s -> an estimated 108 s per full epoch."""
    cut = TrainingResult(1, 0, [EpochRecord(1, 6.0, 0.4, 0.88, 0.3, 0.9, updates=3_000)], 0.3, 0.9)
    (entry,) = summarize([cut])
    assert entry["final_full_epoch_seconds"]["median"] == pytest.approx(108.0)


def test_tables_print_the_lessons_numbers_beside_the_measured_ones():
    """Rows for epochs 1 and 5 show measured median [min–max] and the lesson's value next to it."""
    runs = [_run(100, s, [0.94, 0.95, 0.96, 0.965, 0.97 + 0.001 * s], seconds=1.5) for s in range(3)]
    runs.append(_run(1, 0, [0.95, 0.96], seconds=9.0))
    text = report_text(runs)
    row = next(line for line in text.splitlines() if line.split()[:2] == ["100", "5"])
    assert "0.9710 [0.9700–0.9720]" in row  # measured val_accuracy over 3 seeds
    assert row.split()[-1] == "0.9717"  # the lesson's epoch-5 val_accuracy, right beside it
    assert "0.0910" in row and "0.9732" in row  # the lesson's loss and accuracy
    row1 = next(line for line in text.splitlines() if line.split()[:2] == ["1", "1"])
    assert "168" in row1 and "0.9522" in row1 and "9.00" in row1
    assert "0.9597" in text  # the lesson's batch-1 test accuracy
    markdown = report_markdown(runs)
    assert "| val_accuracy | lesson |" in markdown and "| 0.9710 [0.9700–0.9720] | 0.9717 |" in markdown


def test_default_plan_is_the_lessons_runs_and_budget_caps_updates():
    """5 epochs up to batch 10,000, 100 for 30,000 and 50,000; seeds 0..K-1; budget arithmetic."""
    specs = plan_runs(seeds=2)
    assert [(s.batch_size, s.epochs) for s in specs[::2]] == [
        (1, 5), (100, 5), (10_000, 5), (30_000, 100), (50_000, 100)]
    assert [s.seed for s in specs[:2]] == [0, 1]
    assert {s.epochs for s in plan_runs([1, 50_000], epochs=2)} == {2}
    assert planned_updates(RunSpec(1, 5, 0)) == 270_000
    assert planned_updates(RunSpec(1, 5, 0), budget=(10, 3_000)) == 3_000
    assert planned_updates(RunSpec(100, 5, 0), budget=(10, 3_000)) == 2_700
    assert planned_updates(RunSpec(50_000, 100, 0), budget=(10, 3_000)) == 20
    with pytest.raises(ValueError):
        plan_runs([0])


@pytest.fixture(scope="module")
def json_study(tmp_path_factory, prepared_mnist) -> tuple[object, Path]:
    """One tiny study through the command line (~15 s): batch 1,000 and 10,000, one epoch."""
    out = tmp_path_factory.mktemp("study")
    proc = run_module("mnist_ref", "study", "--batch-sizes", "1000", "10000", "--epochs", "1",
                      "--seeds", "1", "--json", "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, out


@pytest.mark.training
def test_json_flag_prints_exactly_one_json_object_of_the_schema(json_study):
    """All of stdout parses as one JSON object; progress and logs went to stderr."""
    proc, _ = json_study
    document = json.loads(proc.stdout)  # fails on anything besides exactly one JSON value
    assert isinstance(document, dict) and isinstance(document["runs"], list)
    assert [(r["batch_size"], r["seed"]) for r in document["runs"]] == [(1000, 0), (10_000, 0)]
    for run in document["runs"]:
        assert isinstance(run["test_accuracy"], float) and 0.0 <= run["test_accuracy"] <= 1.0
        (epoch,) = run["epochs"]
        for key, kind in EPOCH_KEYS.items():
            assert isinstance(epoch[key], kind), (key, epoch[key])
        assert epoch["epoch"] == 1 and epoch["seconds"] > 0 and 0.0 <= epoch["val_accuracy"] <= 1.0
        assert epoch["updates"] == math.ceil(54_000 / run["batch_size"])
    assert "upd" in proc.stderr  # the tqdm bar


@pytest.mark.training
def test_out_folder_gets_json_markdown_and_real_pngs(json_study):
    """study.json (same document as stdout), study.md with the lesson's numbers, three PNGs."""
    from matplotlib.image import imread

    proc, out = json_study
    assert json.loads((out / "study.json").read_text()) == json.loads(proc.stdout)
    markdown = (out / "study.md").read_text()
    assert "| batch |" in markdown and "0.3723" in markdown  # lesson: batch 10,000, epoch 1
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["seconds_per_epoch.png", "updates_per_epoch.png", "val_accuracy.png"]
    for name in pngs:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, name
        height, width = imread(out / name).shape[:2]
        assert height >= 400 and width >= 600, name


@pytest.mark.training
@pytest.mark.usefixtures("prepared_mnist")
def test_fast_reference_matches_plain_keras_on_a_short_run():
    """Same mathematics and batches: one epoch at batch 1,000 agrees with model.fit closely."""
    from mnist_ref.training import train

    fast = train(1000, 1, 0, engine="compiled")
    plain = train(1000, 1, 0, engine="keras")
    assert len(fast.epochs) == len(plain.epochs) == 1
    (f,), (p,) = fast.epochs, plain.epochs
    assert f.updates == p.updates == 54
    assert f.loss == pytest.approx(p.loss, abs=1e-3)
    assert f.val_accuracy == pytest.approx(p.val_accuracy, abs=0.005)
    assert fast.test_accuracy == pytest.approx(plain.test_accuracy, abs=0.005)
    assert 0.8 <= f.val_accuracy <= 0.95


@pytest.mark.training
@pytest.mark.usefixtures("prepared_mnist")
def test_grading_budget_run_stops_at_the_update_limit():
    """Plain Keras under TrainingBudget: batch 10 stops after MAX_UPDATES updates of epoch 1."""
    from mnist_ref.budget import MAX_UPDATES
    from mnist_ref.records import full_epoch_seconds
    from mnist_ref.study.plan import run_one

    result = run_one(RunSpec(batch_size=10, epochs=5, seed=0), grading_budget=True)
    (epoch,) = result.epochs
    assert epoch.updates == MAX_UPDATES
    assert full_epoch_seconds(epoch, 10) == pytest.approx(epoch.seconds * 5_400 / MAX_UPDATES)
    assert epoch.val_accuracy > 0.8
