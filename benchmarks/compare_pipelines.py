"""The lesson's original pipeline against the fast reference, side by side on this machine.

Runs the lesson's three runs (batch 1, 100 and 10,000; 5 epochs each) twice, each run in a fresh
process, and prints each wall time (data loading + training + validation, after the imports),
the ratio, the epoch-5 validation accuracies and the physical limit of this CPU.

* lesson: ``tfds.load``, ``map(scale)`` per image, ``shuffle(10_000)`` then ``take``/``skip``,
  ``batch``, validation as one batch taken once, plain ``model.fit`` (steps_per_execution=1,
  TensorFlow's default threads), as in the lesson's notebook.
* reference: ``mnist_ref.training.train`` (decoded images read from the cache beside the
  prepared dataset, ``mnist_ref.decoded_cache``, scaled once, in memory, the compiled XLA loop
  of ``mnist_ref.compiled``, one thread per pool, deterministic ops).  The cache is verified
  (and built if missing, as ``prepare-data`` does) before the runs, outside the timings.

Usage (from the repository root; the full run takes ~5 minutes, mostly the lesson's batch 1)::

    .venv/bin/python benchmarks/compare_pipelines.py
    .venv/bin/python benchmarks/compare_pipelines.py --batch1-epochs 1     # shorter
    .venv/bin/python benchmarks/compare_pipelines.py --json artifacts/benchmark.json

It is a measurement, not a test: other load on the machine changes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from physical_limit import (  # noqa: E402
    BACKWARD_FACTOR,
    LAYER_WIDTHS,
    cpu_peak,
    epoch_macs,
    forward_macs_per_image,
)

from mnist_ref import QUIET_TF_LOG_LEVEL  # noqa: E402
from mnist_ref.lesson import (  # noqa: E402
    BATCH_SIZE,
    EPOCHS,
    LARGE_BATCH_SIZE,
    NUM_TRAIN,
    NUM_VALIDATION,
    SGD_BATCH_SIZE,
    VALIDATION_FRACTION,
)

LESSON_RUNS = (BATCH_SIZE, LARGE_BATCH_SIZE, SGD_BATCH_SIZE)  # the order the lesson runs them


def _timed_epochs():
    """A Keras callback that only times epochs (no per-step hook, so fit's pace is unchanged)."""
    import tensorflow as tf

    class EpochTimes(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimes()


def lesson_run(batch_size: int, epochs: int, seed: int = 0) -> dict:
    """The lesson's own pipeline and plain fit; returns wall time and per-epoch numbers."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from mnist_ref.data import scale, split_like_lesson
    from mnist_ref.model import build_model, compile_model

    tf.keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    mnist_dataset, mnist_info = tfds.load(name="mnist", with_info=True, as_supervised=True)
    num_validation = tf.cast(VALIDATION_FRACTION * mnist_info.splits["train"].num_examples, tf.int64)
    train_data, validation_data = split_like_lesson(mnist_dataset["train"].map(scale), num_validation)
    train_data = train_data.batch(batch_size)
    validation_inputs, validation_targets = next(iter(validation_data.batch(num_validation)))
    model = compile_model(build_model(), steps_per_execution=1)
    timer = _timed_epochs()
    history = model.fit(train_data, epochs=epochs, callbacks=[timer], verbose=0,
                        validation_data=(validation_inputs, validation_targets))
    wall = time.perf_counter() - start
    return {"wall_seconds": wall, "epoch_seconds": timer.seconds,
            "val_accuracy": [float(v) for v in history.history["val_accuracy"]]}


def reference_run(batch_size: int, epochs: int, seed: int = 0) -> dict:
    """The reference: in-memory data and the compiled loop (includes its test evaluation)."""
    from mnist_ref.cpu import configure_threads

    configure_threads(1, 1)
    from mnist_ref.training import train

    start = time.perf_counter()
    result = train(batch_size, epochs, seed)
    wall = time.perf_counter() - start
    return {"wall_seconds": wall, "epoch_seconds": [e.seconds for e in result.epochs],
            "val_accuracy": [e.val_accuracy for e in result.epochs]}


def run_child(side: str, batch_size: int, epochs: int) -> dict:
    """One run in a fresh Python process (its own TensorFlow threads and caches)."""
    cmd = [sys.executable, __file__, "--child", side,
           "--batch-size", str(batch_size), "--epochs", str(epochs)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": QUIET_TF_LOG_LEVEL}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{side} batch {batch_size} failed:\n{proc.stderr[-3000:]}")
    return {"side": side, "batch_size": batch_size, "epochs": epochs,
            **json.loads(proc.stdout.strip().splitlines()[-1])}


def decoded_cache_line() -> str:
    """Verify the decoded-array cache the reference reads (build it if needed); one line on it."""
    from mnist_ref.decoded_cache import cache_path, ensure
    from mnist_ref.offline_data import prepared_dataset_dir

    folder = prepared_dataset_dir()
    try:
        state = "built now" if ensure(folder) else "present and verified"
    except OSError as exc:
        return f"decoded-array cache: unavailable ({exc}); the reference decodes the images in every run"
    return f"decoded-array cache: {cache_path(folder)} ({state})"


def physical_limit_lines(total_epochs: int) -> list[str]:
    """How long the runs would take at the CPU's peak rate, and how that was estimated."""
    peak = cpu_peak()
    macs = epoch_macs()
    floor = 2 * macs / peak.peak_flops
    forward = forward_macs_per_image()
    layers = " + ".join(f"{a}*{b}" for a, b in zip(LAYER_WIDTHS, LAYER_WIDTHS[1:], strict=False))
    return [
        "Physical limit (compute only):",
        f"  forward pass: {layers} = {forward:,} multiply-adds per image",
        f"  one epoch: {BACKWARD_FACTOR} (forward + backward) x {forward:,} x {NUM_TRAIN:,} images "
        f"= {macs:.3e} multiply-adds = {2 * macs / 1e9:.1f} GFLOP",
        f"  peak: {peak.explain()}",
        "        (cores: os.cpu_count(); clock: 'cpu MHz'; SIMD width: avx512f/avx2 in 'flags' "
        "of /proc/cpuinfo; 2 FMA units per core assumed)",
        f"  floor: {floor * 1e3:.0f} ms per epoch, {floor * total_epochs:.2f} s for these "
        f"{total_epochs} epochs (validation adds {NUM_VALIDATION:,} forward passes per epoch, ~1%)",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both sides of each lesson run, then print the comparison and the physical limit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs for batch 100 and 10,000")
    parser.add_argument("--batch1-epochs", type=int, default=EPOCHS,
                        help=f"epochs for batch 1 (default {EPOCHS})")
    parser.add_argument("--json", type=Path, default=None, help="also save the figures here")
    parser.add_argument("--child", choices=("lesson", "reference"), help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run = lesson_run if args.child == "lesson" else reference_run
        print(json.dumps(run(args.batch_size, args.epochs)))
        return 0

    cache_line = decoded_cache_line()
    print(cache_line, flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)
    pairs = []
    for batch_size in LESSON_RUNS:
        epochs = args.batch1_epochs if batch_size == SGD_BATCH_SIZE else args.epochs
        pair = {side: run_child(side, batch_size, epochs) for side in ("lesson", "reference")}
        pairs.append(pair)
        les, ref = pair["lesson"], pair["reference"]
        ratio = les["wall_seconds"] / ref["wall_seconds"]
        print(f"batch {batch_size:>6,} x {epochs} epochs: lesson {les['wall_seconds']:7.1f} s, "
              f"reference {ref['wall_seconds']:6.1f} s, ratio {ratio:5.1f}x", flush=True)

    print(f"\n{'run':>22}  {'lesson s':>9}  {'reference s':>11}  {'ratio':>6}  "
          f"{'last val_acc lesson':>19}  {'reference':>9}  {'ref. GFLOP/s':>12}")
    for pair in pairs:
        les, ref = pair["lesson"], pair["reference"]
        label = f"batch {les['batch_size']:,}, {les['epochs']} epochs"
        rate = 2 * epoch_macs() * ref["epochs"] / ref["wall_seconds"] / 1e9
        print(f"{label:>22}  {les['wall_seconds']:9.1f}  {ref['wall_seconds']:11.1f}  "
              f"{les['wall_seconds'] / ref['wall_seconds']:5.1f}x  {les['val_accuracy'][-1]:19.4f}  "
              f"{ref['val_accuracy'][-1]:9.4f}  {rate:12.1f}")
    total_les = sum(p["lesson"]["wall_seconds"] for p in pairs)
    total_ref = sum(p["reference"]["wall_seconds"] for p in pairs)
    total_epochs = sum(p["reference"]["epochs"] for p in pairs)
    print(f"{'total':>22}  {total_les:9.1f}  {total_ref:11.1f}  {total_les / total_ref:5.1f}x")
    print(f"load average after: {os.getloadavg()}\n")
    print("\n".join(physical_limit_lines(total_epochs)))
    floor = 2 * epoch_macs() * total_epochs / cpu_peak().peak_flops
    print(f"  reference: {total_ref / floor:.0f}x the floor; lesson: {total_les / floor:.0f}x the floor")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": pairs, "total_lesson_seconds": total_les,
                                         "total_reference_seconds": total_ref,
                                         "ratio": total_les / total_ref,
                                         "floor_seconds": floor, "decoded_cache": cache_line},
                                        indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
