"""The ``study`` subcommand: run the plan (batch sizes, or with ``--variants`` the hyper-parameter
exercises), then print the tables and write the JSON, Markdown and PNG files (or, with
``--json``, print only the JSON document)."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import asdict
from pathlib import Path

from mnist_ref import lesson, quiet_tensorflow
from mnist_ref.records import EpochRecord, TrainingResult
from mnist_ref.study.plan import (
    ALL_VARIANTS,
    GRADING_BUDGET,
    LESSON_BATCH_SIZES,
    LONG_EPOCHS,
    LONG_FROM_BATCH_SIZE,
    SHORT_EPOCHS,
    VARIANT_NAMES,
    RunSpec,
    check_variant,
    graded_steps_per_execution,
    plan_runs,
    plan_variant_runs,
    resolve_variants,
    run_study,
)
from mnist_ref.study.report import report_markdown, report_text, summarize
from mnist_ref.study.variant_report import summarize_variants, variant_report_markdown, variant_report_text

DEFAULT_OUT = Path("artifacts/study")
DEFAULT_OUT_BUDGET = Path("artifacts/study-grading-budget")
DEFAULT_OUT_VARIANTS = Path("artifacts/study-variants")
DEFAULT_OUT_VARIANTS_BUDGET = Path("artifacts/study-variants-grading-budget")
JSON_FILE, MARKDOWN_FILE = "study.json", "study.md"


def _default_spe() -> int:
    from mnist_ref.compiled import DEFAULT_STEPS_PER_CALL

    return DEFAULT_STEPS_PER_CALL


def plan_from_args(args: argparse.Namespace) -> list[RunSpec]:
    """The runs the options ask for: the variants' (with ``--variants``), else the batch sizes'."""
    if args.variants:
        return plan_variant_runs(args.variants, args.seeds, args.epochs)
    return plan_runs(args.batch_sizes, args.epochs, args.seeds)


def default_out(args: argparse.Namespace) -> Path:
    """The output folder when ``--out`` is not given: one per study and budget."""
    if args.variants:
        return DEFAULT_OUT_VARIANTS_BUDGET if args.grading_budget else DEFAULT_OUT_VARIANTS
    return DEFAULT_OUT_BUDGET if args.grading_budget else DEFAULT_OUT


def study_config(args: argparse.Namespace, seconds: float) -> dict:
    """What ran, where and how long, for the JSON file."""
    import tensorflow as tf

    budget = GRADING_BUDGET if args.grading_budget else None
    specs = plan_from_args(args)
    return {
        "grading_budget": args.grading_budget,
        "engine": "keras" if args.grading_budget else "compiled",
        "steps_per_execution": (graded_steps_per_execution(specs[0]) if args.grading_budget
                                else (args.steps_per_execution or _default_spe())),
        "max_epochs": budget and budget[0],
        "max_updates": budget and budget[1],
        "batch_sizes": [lesson.BATCH_SIZE] if args.variants else args.batch_sizes,
        **({"variants": resolve_variants(args.variants)} if args.variants else {}),
        "epochs": args.epochs,
        "seeds": list(range(args.seeds)),
        "threads": None if args.grading_budget else args.threads,
        "op_determinism": True,
        "num_train": lesson.NUM_TRAIN,
        "total_seconds": round(seconds, 1),
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def is_variant_study(results: Sequence[TrainingResult]) -> bool:
    """Whether the runs are the hyper-parameter study's (they name their variant)."""
    return any(r.variant for r in results)


def study_document(results: Sequence[TrainingResult], config: dict) -> dict:
    """The JSON document: {"runs": [...], "summary": [...], "config": {...}}; variant runs name theirs."""
    runs = [
        {"batch_size": r.batch_size, **({"variant": r.variant} if r.variant else {}), "seed": r.seed,
         "epochs": [asdict(e) for e in r.epochs], "test_accuracy": r.test_accuracy, "test_loss": r.test_loss,
         "full_epoch_updates": lesson.full_epoch_steps(r.batch_size)}
        for r in results
    ]
    summary = summarize_variants(results) if is_variant_study(results) else summarize(results)
    return _strict_json({"runs": runs, "summary": summary, "config": config})


def results_from_document(document: dict) -> list[TrainingResult]:
    """The runs of a study's JSON document back as TrainingResults (None -> NaN; no variant -> None)."""

    def number(value: float | None) -> float:
        return math.nan if value is None else float(value)

    def epoch(e: dict) -> EpochRecord:
        floats = {k: number(e[k]) for k in ("seconds", "loss", "accuracy", "val_loss", "val_accuracy")}
        return EpochRecord(epoch=int(e["epoch"]), **floats, updates=e.get("updates"))

    return [
        TrainingResult(int(r["batch_size"]), int(r["seed"]), [epoch(e) for e in r["epochs"]],
                       number(r.get("test_loss")), number(r.get("test_accuracy")), variant=r.get("variant"))
        for r in document["runs"]
    ]


def _strict_json(value):
    """NaN and infinities -> None, so the document is strict JSON that any parser accepts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    return value


def write_outputs(results: Sequence[TrainingResult], document: dict, out_dir: Path) -> list[Path]:
    """The JSON, Markdown and PNG files of the study, in ``out_dir``."""
    from mnist_ref.study.plots import write_plots, write_variant_plots  # matplotlib: only when plotting

    out_dir.mkdir(parents=True, exist_ok=True)
    grading = bool(document["config"].get("grading_budget"))
    (out_dir / JSON_FILE).write_text(json.dumps(document, indent=1) + "\n")
    variants = is_variant_study(results)
    markdown = variant_report_markdown if variants else report_markdown
    (out_dir / MARKDOWN_FILE).write_text(markdown(results, grading))
    subtitle = "fast reference engine"
    if grading:
        max_epochs, max_updates = GRADING_BUDGET
        subtitle = f"plain Keras, grading budget (≤{max_epochs} epochs, ≤{max_updates:,} updates per run)"
    seeds = len({r.seed for r in results})
    plot = write_variant_plots if variants else write_plots
    plots = plot(results, out_dir, f"{subtitle}; median of {seeds} seed(s)")
    return [out_dir / JSON_FILE, out_dir / MARKDOWN_FILE, *plots]


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send all output meant for stdout (Python's and the C libraries') to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def cmd_study(args: argparse.Namespace) -> int:
    """Run the study; print the tables (or, with --json, only the JSON document) and save outputs."""
    quiet_tensorflow()
    specs = plan_from_args(args)
    out_dir = args.out or default_out(args)
    start = time.perf_counter()
    with stdout_to_stderr() if args.json else nullcontext():
        if not args.grading_budget:
            from mnist_ref.cpu import configure_threads

            configure_threads(args.threads, 1)
        results = run_study(specs, args.grading_budget, args.steps_per_execution)
        document = study_document(results, study_config(args, time.perf_counter() - start))
        paths = write_outputs(results, document, out_dir)
    if args.json:
        print(json.dumps(document, allow_nan=False))
        return 0
    report = variant_report_text if is_variant_study(results) else report_text
    print(report(results, args.grading_budget))
    print(f"\nWrote {', '.join(str(p) for p in paths)}")
    print(f"Total {time.perf_counter() - start:.1f} s")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``study`` subcommand's options."""
    p = sub.add_parser("study", help="the lesson's batch-size (or hyper-parameter) runs over seeds: "
                       "tables, JSON and plots")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--batch-sizes", type=int, nargs="+", default=list(LESSON_BATCH_SIZES),
                       help="default: %(default)s")
    which.add_argument("--variants", type=_variant_name, nargs="+", default=None, metavar="NAME",
                       help=f"run these hyper-parameter variants instead, at batch {lesson.BATCH_SIZE} for "
                       f"{lesson.EPOCHS} epochs, the baseline always included: {', '.join(VARIANT_NAMES)} "
                       f"or {ALL_VARIANTS}")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs for every run (default: the lesson's, {SHORT_EPOCHS} below batch "
                   f"{LONG_FROM_BATCH_SIZE:,}, else {LONG_EPOCHS})")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..K-1 per batch size or variant (default: 3)")
    p.add_argument("--json", action="store_true", help="print only one JSON object on stdout")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output folder (default: {DEFAULT_OUT}; {DEFAULT_OUT_BUDGET} with --grading-budget; "
                   f"{DEFAULT_OUT_VARIANTS} and {DEFAULT_OUT_VARIANTS_BUDGET} with --variants)")
    p.add_argument("--grading-budget", action="store_true",
                   help="plain Keras with the grader's TrainingBudget limits: one step per call, or "
                   f"{lesson.GRADED_STEPS_PER_EXECUTION} with --variants, as graded notebooks")
    p.add_argument("--steps-per-execution", type=int, default=None,
                   help="fast engine: training steps per XLA call (default: 1,000)")
    p.add_argument("--threads", type=int, default=1,
                   help="fast engine: TensorFlow intra-op threads (default: %(default)s)")
    p.set_defaults(func=cmd_study)
    return p


def _variant_name(text: str) -> str:
    """argparse type for ``--variants``: a variant's name or ``all``, else an error naming the valid ones."""
    try:
        return check_variant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
