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


# ---------------------------------------------------------------- the hyper-parameter study (--variants)


def _variant_run(name: str, seed: int, val_accuracies: list[float], seconds: float = 2.0) -> TrainingResult:
    """A hand-made batch-100 run of one variant (see _run)."""
    run = _run(100, seed, val_accuracies, seconds)
    run.variant = name
    return run


def _variant_study() -> list[TrainingResult]:
    """Baseline and lr_0.0001 over seeds 0-2 (the variant in another seed order), and an unpaired seed 3."""
    baseline = [_variant_run("baseline", s, [0.93 + 0.005 * s, 0.96 + 0.005 * s]) for s in range(3)]
    slow = [_variant_run("lr_0.0001", s, [0.85 + 0.01 * s, 0.90 + 0.01 * s], seconds=2.0 + 0.1 * s)
            for s in (2, 0, 1)]
    return [*baseline, *slow, _variant_run("lr_0.0001", 3, [0.5, 0.5], seconds=9.0)]


def _study_parser():
    """The real ``python -m mnist_ref study`` parser, without running anything."""
    import argparse

    from mnist_ref.study.cli import add_parser

    parser = argparse.ArgumentParser(prog="python -m mnist_ref")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_variant_plan_runs_every_variant_at_batch_100_for_5_epochs_baseline_first():
    """``all`` expands to the lesson's variants in order; the baseline is always run, first, once."""
    from mnist_ref.lesson import VARIANTS
    from mnist_ref.study.plan import graded_steps_per_execution, plan_variant_runs, resolve_variants

    specs = plan_variant_runs(["all"], seeds=3)
    assert len(specs) == 3 * len(VARIANTS) == 24
    assert [s.variant for s in specs[::3]] == list(VARIANTS)
    assert {(s.batch_size, s.epochs) for s in specs} == {(100, 5)}
    assert [s.seed for s in specs[:3]] == [0, 1, 2]
    assert resolve_variants(["lr_0.02", "sigmoid", "lr_0.02"]) == ["baseline", "lr_0.02", "sigmoid"]
    assert resolve_variants(["sigmoid", "baseline"]) == ["baseline", "sigmoid"]
    assert {s.epochs for s in plan_variant_runs(["depth_3"], epochs=1)} == {1}
    assert planned_updates(specs[0], budget=(5, 3_000)) == 2_700  # the budget does not cut batch 100
    assert graded_steps_per_execution(specs[0]) == 50 and graded_steps_per_execution(RunSpec(100, 5, 0)) == 1
    assert specs[3].label == "width_200" and RunSpec(10_000, 5, 0).label == "batch 10,000"
    with pytest.raises(ValueError, match="unknown variant 'width_100'; choose from baseline, width_200"):
        plan_variant_runs(["width_100"])


def test_variant_report_pairs_each_run_with_the_baseline_of_the_same_seed():
    """Differences and ratios per seed (not per position); a seed without a baseline run is left out."""
    from mnist_ref.study.variant_report import summarize_variants

    results = _variant_study()
    baseline, slow = summarize_variants(results)
    assert baseline["variant"] == "baseline" and slow["variant"] == "lr_0.0001"
    assert slow["learning_rate"] == 0.0001 and slow["widths"] == [50, 50] and slow["seeds"] == [2, 0, 1, 3]
    paired = slow["paired_with_baseline"]
    # final: 0.90 + 0.01 s - (0.96 + 0.005 s) = -0.06 + 0.005 s; epoch 1: -0.08 + 0.005 s
    final, first = paired["final_val_accuracy_diff"], paired["epoch1_val_accuracy_diff"]
    assert final == pytest.approx({"median": -0.055, "min": -0.06, "max": -0.05, "n": 3})
    assert first == pytest.approx({"median": -0.075, "min": -0.08, "max": -0.07, "n": 3})
    assert paired["seconds_ratio"] == pytest.approx({"median": 1.05, "min": 1.0, "max": 1.1, "n": 3})
    assert baseline["paired_with_baseline"]["seconds_ratio"]["median"] == 1.0
    assert slow["steady_seconds"]["max"] == 9.0  # the unpaired seed still counts in its own spread


def test_variant_tables_show_the_lessons_baseline_and_signed_differences():
    """The baseline row carries the lesson's batch-100 numbers; the paired table signed Δs and ratios."""
    from mnist_ref.study.variant_report import variant_report_markdown, variant_report_text

    text = variant_report_text(_variant_study(), grading_budget=True)
    lines = text.splitlines()
    base = next(line for line in lines if line.startswith("baseline "))
    assert "0.9408" in base  # the lesson's epoch-1 val_accuracy (its epoch-5 one needs 5 epochs run)
    five = variant_report_text([_variant_run("baseline", 0, [0.93, 0.94, 0.95, 0.96, 0.97], seconds=1.0)])
    assert "0.9717" in five.splitlines()[4] and five.splitlines()[4].endswith("  3")  # val_acc, 3 s
    paired = [line for line in lines if line.startswith("lr_0.0001")][-1]  # the paired table's row
    assert "-0.0550 [-0.0600–-0.0500]" in paired and "1.05 [1.00–1.10]" in paired
    assert "reduced grading budget" in lines[0]
    markdown = variant_report_markdown(_variant_study())
    assert "## Paired by seed with the baseline" in markdown and "| Δ final val_acc |" in markdown
    only_baseline = variant_report_text([_variant_run("baseline", 0, [0.9, 0.95])])
    assert "Δ final" not in only_baseline  # nothing to pair with: no paired table


def test_cli_variants_all_and_unknown_names():
    """``--variants all`` plans every variant into its own folder; a wrong name lists the valid ones."""
    from mnist_ref.study.cli import DEFAULT_OUT, DEFAULT_OUT_VARIANTS_BUDGET, default_out, plan_from_args

    parser = _study_parser()
    args = parser.parse_args(["study", "--variants", "all", "--seeds", "2", "--grading-budget"])
    assert args.variants == ["all"] and len(plan_from_args(args)) == 16
    assert default_out(args) == DEFAULT_OUT_VARIANTS_BUDGET
    batch = parser.parse_args(["study"])  # the batch-size study as before
    assert batch.variants is None and plan_from_args(batch) == plan_runs(seeds=3)
    assert default_out(batch) == DEFAULT_OUT
    for bad in (["--variants", "sigmoid", "tanh"], ["--variants", "all", "--batch-sizes", "100"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["study", *bad])
    with pytest.raises(SystemExit):
        parser.parse_args(["study", "--variants", "tanh"])


def test_cli_unknown_variant_message(capsys):
    """The error names the wrong variant and every valid one."""
    with pytest.raises(SystemExit):
        _study_parser().parse_args(["study", "--variants", "tanh"])
    err = capsys.readouterr().err
    assert "unknown variant 'tanh'" in err
    assert "baseline, width_200, depth_3, depth_5, sigmoid, relu_tanh, lr_0.0001, lr_0.02 or all" in err


def test_json_round_trip_keeps_the_variant_name_and_reads_batch_size_documents():
    """study.json -> TrainingResults gives the same runs; documents without variants read as None."""
    from mnist_ref.study.cli import results_from_document, study_document

    results = _variant_study()
    document = json.loads(json.dumps(study_document(results, {"seeds": [0, 1, 2]}), allow_nan=False))
    assert [r["variant"] for r in document["runs"]][:4] == ["baseline"] * 3 + ["lr_0.0001"]
    assert [s["variant"] for s in document["summary"]] == ["baseline", "lr_0.0001"]
    assert results_from_document(document) == results
    batch_runs = [_run(100, 0, [0.9, 0.95]), _run(1, 0, [0.8])]
    batch_runs[0].epochs[0].val_loss = float("nan")  # strict JSON: NaN -> null -> NaN
    old = json.loads(json.dumps(study_document(batch_runs, {})))
    assert "variant" not in old["runs"][0] and old["summary"][0]["batch_size"] == 100
    back = results_from_document(old)
    assert [r.variant for r in back] == [None, None] and math.isnan(back[0].epochs[0].val_loss)
    assert back[1] == batch_runs[1]


def test_variant_outputs_are_markdown_json_and_two_pngs(tmp_path):
    """A hand-made variant study written to disk: study.json, study.md, the two variant plots."""
    from mnist_ref.study.cli import study_document, write_outputs

    results = _variant_study()
    paths = write_outputs(results, study_document(results, {"grading_budget": True}), tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["seconds_per_epoch.png", "study.json", "study.md", "val_accuracy.png"]
    assert (tmp_path / "val_accuracy.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "lr_0.0001" in (tmp_path / "study.md").read_text()


def test_build_variant_sets_widths_activations_and_learning_rate():
    """Each variant's layers and Adam's rate; the default rate keeps the lesson's ``"adam"`` string."""
    import tensorflow as tf

    from mnist_ref.lesson import VARIANTS
    from mnist_ref.model import build_variant

    for name in ("depth_5", "relu_tanh", "lr_0.02", "baseline"):
        v = VARIANTS[name]
        model = build_variant(v)
        dense = model.layers[1:-1]
        assert [d.units for d in dense] == list(v.widths)
        assert [d.activation.__name__ for d in dense] == list(v.activations)
        assert isinstance(model.optimizer, tf.keras.optimizers.Adam)
        assert float(model.optimizer.learning_rate) == pytest.approx(v.learning_rate)
    assert build_variant(VARIANTS["baseline"]).count_params() == 42_310


@pytest.mark.training
@pytest.mark.usefixtures("prepared_mnist")
@pytest.mark.parametrize("grading_budget", [False, True], ids=["compiled", "keras-graded"])
def test_a_variant_trains_with_both_engines(grading_budget):
    """One epoch of lr_0.02 at batch 100 (a few seconds): named, 540 updates, and learning."""
    from mnist_ref.study.plan import run_one

    result = run_one(RunSpec(100, 1, 0, variant="lr_0.02"), grading_budget=grading_budget)
    (epoch,) = result.epochs
    assert result.variant == "lr_0.02" and epoch.updates == 540
    assert 0.85 <= epoch.val_accuracy <= 0.99
