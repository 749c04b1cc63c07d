"""Command line: ``python -m mnist_ref {prepare-data,train,study}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mnist_ref import quiet_tensorflow, study


def cmd_prepare_data(args: argparse.Namespace) -> int:
    from mnist_ref.offline_data import DataPreparationError, prepare

    try:
        print(prepare(args.idx_dir, args.data_dir))
    except DataPreparationError as exc:
        print(f"prepare-data: error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    quiet_tensorflow()
    from mnist_ref.training import EpochRecord, train

    def show(r: EpochRecord) -> None:
        print(
            f"Epoch {r.epoch}/{args.epochs} - {r.seconds:.1f}s - loss: {r.loss:.4f} - "
            f"accuracy: {r.accuracy:.4f} - val_loss: {r.val_loss:.4f} - "
            f"val_accuracy: {r.val_accuracy:.4f}",
            flush=True,
        )

    if args.engine == "compiled":
        from mnist_ref.cpu import configure_threads

        configure_threads(args.threads, 1)
    print(f"Training batch size {args.batch_size} for {args.epochs} epoch(s), seed {args.seed}")
    result = train(
        args.batch_size, args.epochs, args.seed,
        steps_per_execution=args.steps_per_execution, on_epoch=show, engine=args.engine,
    )
    print(f"Test loss: {result.test_loss:.4f}  Test accuracy: {result.test_accuracy:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_ref", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    prep = sub.add_parser("prepare-data", help="build TFDS's mnist from local IDX files, offline")
    prep.add_argument(
        "--from", dest="idx_dir", type=Path, default=None,
        help="folder with the four *-ubyte.gz files (default: $MNIST_IDX_DIR; "
        "with neither, TFDS downloads)",
    )
    prep.add_argument(
        "--data-dir", type=Path, default=None,
        help="TFDS data directory (default: $TFDS_DATA_DIR or ~/tensorflow_datasets)",
    )
    prep.set_defaults(func=cmd_prepare_data)

    tr = sub.add_parser("train", help="train the lesson's model once and evaluate it")
    tr.add_argument("--batch-size", type=int, default=100)
    tr.add_argument("--epochs", type=int, default=5)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument(
        "--engine", choices=("compiled", "keras"), default="compiled",
        help="compiled: the fast XLA loop (default); keras: plain model.fit (same mathematics)",
    )
    tr.add_argument(
        "--steps-per-execution", type=int, default=None,
        help="training steps per call into TensorFlow (speed only; same mathematics; "
        "default: 1,000 compiled, 1 keras)",
    )
    tr.add_argument(
        "--threads", type=int, default=1,
        help="compiled engine: TensorFlow intra-op threads (default: %(default)s)",
    )
    tr.set_defaults(func=cmd_train)

    study.add_parser(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
