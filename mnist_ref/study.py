"""`python -m mnist_ref study`: the lesson's batch-size runs over several seeds, with tables and plots.

By default the fast reference engine runs the lesson's five runs (batch 1, 100 and 10,000 for 5
epochs; 30,000 and 50,000 for 100).  ``--grading-budget`` instead runs what the grader runs:
plain Keras ``fit`` (one step per call) with the :class:`~mnist_ref.budget.TrainingBudget`
limits, so the grader's accuracy bands come from measurements.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path

from mnist_ref.records import NUM_TRAIN, TrainingResult, full_epoch_steps

LESSON_BATCH_SIZES = (1, 100, 10_000, 30_000, 50_000)
SHORT_EPOCHS = 5
LONG_EPOCHS = 100
LONG_FROM_BATCH_SIZE = 30_000  # the lesson's "about 100 epochs" runs
DEFAULT_OUT = Path("artifacts/study")
DEFAULT_OUT_BUDGET = Path("artifacts/study-grading-budget")
JSON_FILE, MARKDOWN_FILE = "study.json", "study.md"


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


def planned_updates(spec: RunSpec, budget: tuple[int, int] | None = None, num_train: int = NUM_TRAIN) -> int:
    """Optimizer updates the run will take; ``budget`` = (max epochs, max updates) caps them."""
    steps = full_epoch_steps(spec.batch_size, num_train)
    if budget is None:
        return spec.epochs * steps
    max_epochs, max_updates = budget
    return min(min(spec.epochs, max_epochs) * steps, max_updates)


def run_one(
    spec: RunSpec,
    grading_budget: bool = False,
    on_updates: Callable[[int], None] | None = None,
    on_epoch: Callable | None = None,
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

    budget = _budget() if grading_budget else None
    total = sum(planned_updates(s, budget) for s in specs)
    results = []
    with tqdm(total=total, unit="upd", unit_scale=True, file=sys.stderr, disable=not progress,
              dynamic_ncols=True, smoothing=0.05) as bar:
        for spec in specs:
            bar.set_description(f"batch {spec.batch_size:,} seed {spec.seed}")
            start = time.perf_counter()

            def show(record, spec=spec):
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


def _budget() -> tuple[int, int]:
    from mnist_ref.budget import MAX_EPOCHS, MAX_UPDATES

    return MAX_EPOCHS, MAX_UPDATES


def _default_spe() -> int:
    from mnist_ref.compiled import DEFAULT_STEPS_PER_CALL

    return DEFAULT_STEPS_PER_CALL


def study_config(args: argparse.Namespace, seconds: float) -> dict:
    """What ran, where and how long, for the JSON file."""
    import tensorflow as tf

    budget = _budget() if args.grading_budget else None
    return {
        "grading_budget": args.grading_budget,
        "engine": "keras" if args.grading_budget else "compiled",
        "steps_per_execution": 1 if args.grading_budget else (args.steps_per_execution or _default_spe()),
        "max_epochs": budget and budget[0],
        "max_updates": budget and budget[1],
        "batch_sizes": args.batch_sizes,
        "epochs": args.epochs,
        "seeds": list(range(args.seeds)),
        "threads": None if args.grading_budget else args.threads,
        "op_determinism": True,
        "num_train": NUM_TRAIN,
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


def study_document(results: Sequence[TrainingResult], config: dict) -> dict:
    """The JSON document: {"runs": [...], "summary": [...], "config": {...}}."""
    from mnist_ref.study_report import summarize

    runs = [
        {"batch_size": r.batch_size, "seed": r.seed, "epochs": [asdict(e) for e in r.epochs],
         "test_accuracy": r.test_accuracy, "test_loss": r.test_loss,
         "full_epoch_updates": full_epoch_steps(r.batch_size)}
        for r in results
    ]
    return _strict_json({"runs": runs, "summary": summarize(results), "config": config})


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
    from mnist_ref.study_plots import write_plots
    from mnist_ref.study_report import report_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    grading = bool(document["config"].get("grading_budget"))
    (out_dir / JSON_FILE).write_text(json.dumps(document, indent=1) + "\n")
    (out_dir / MARKDOWN_FILE).write_text(report_markdown(results, grading))
    subtitle = "fast reference engine"
    if grading:
        max_epochs, max_updates = _budget()
        subtitle = f"plain Keras, grading budget (≤{max_epochs} epochs, ≤{max_updates:,} updates per run)"
    seeds = len({r.seed for r in results})
    plots = write_plots(results, out_dir, f"{subtitle}; median of {seeds} seed(s)")
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    specs = plan_runs(args.batch_sizes, args.epochs, args.seeds)
    out_dir = args.out or (DEFAULT_OUT_BUDGET if args.grading_budget else DEFAULT_OUT)
    start = time.perf_counter()
    with stdout_to_stderr() if args.json else _nothing():
        if not args.grading_budget:
            from mnist_ref.cpu import configure_threads

            configure_threads(args.threads, 1)
        results = run_study(specs, args.grading_budget, args.steps_per_execution)
        document = study_document(results, study_config(args, time.perf_counter() - start))
        paths = write_outputs(results, document, out_dir)
    if args.json:
        print(json.dumps(document, allow_nan=False))
        return 0
    from mnist_ref.study_report import report_text

    print(report_text(results, args.grading_budget))
    print(f"\nWrote {', '.join(str(p) for p in paths)}")
    print(f"Total {time.perf_counter() - start:.1f} s")
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``study`` subcommand's options."""
    p = sub.add_parser("study", help="the lesson's batch-size runs over seeds: tables, JSON and plots")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=list(LESSON_BATCH_SIZES),
                   help="default: %(default)s")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs for every run (default: the lesson's, {SHORT_EPOCHS} below batch "
                   f"{LONG_FROM_BATCH_SIZE:,}, else {LONG_EPOCHS})")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..K-1 per batch size (default: 3)")
    p.add_argument("--json", action="store_true", help="print only one JSON object on stdout")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output folder (default: {DEFAULT_OUT}; {DEFAULT_OUT_BUDGET} with --grading-budget)")
    p.add_argument("--grading-budget", action="store_true",
                   help="plain Keras, one step per call, the grader's TrainingBudget limits")
    p.add_argument("--steps-per-execution", type=int, default=None,
                   help="fast engine: training steps per XLA call (default: 1,000)")
    p.add_argument("--threads", type=int, default=1,
                   help="fast engine: TensorFlow intra-op threads (default: %(default)s)")
    p.set_defaults(func=cmd_study)
    return p

