"""The clean judge as a process: print ``{grade_id: [points, message]}`` as one JSON object.

* ``python -m autograder.judge EVIDENCE_DIR CELLS_JSON``: judge one evidence folder now.
* ``python -m autograder.judge --wait``: load TensorFlow and MNIST's test set first, then read
  one request ``{"evidence": DIR, "cells": FILE, "handed_in": DIR}`` as a line on stdin and answer
  it (``handed_in``: the host's copy of the files handed in beside the notebook).  The host
  starts it when the student's kernel starts, so the few seconds of loading overlap the run;
  an empty stdin (the host closed it: nothing to judge) ends it quietly.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _answer(evidence_dir: Path, cells_file: Path, handed_in: Path | None = None) -> None:
    from autograder.judge.cells import judge

    results = judge(evidence_dir, json.loads(cells_file.read_text()), handed_in)
    sys.stdout.write(json.dumps(results))


def _warm_up() -> None:
    """Everything judging one submission needs that does not depend on it."""
    import tensorflow  # noqa: F401 - the bulk of the judge's start-up

    from autograder.judge import cells  # noqa: F401
    from autograder.judge.reference import test_sets
    from autograder.judge.saved_runs import training_images

    for load in (test_sets, training_images):  # the training images find the student's validation set
        try:
            load()
        except Exception:  # not every submission needs them; a check that does says why
            pass


def main(argv: list[str] | None = None) -> int:
    """Judge the evidence named on the command line, or, with ``--wait``, in the request on stdin."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["--wait"]:
        _answer(Path(args[0]), Path(args[1]))
        return 0
    _warm_up()
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    handed_in = request.get("handed_in")
    _answer(Path(request["evidence"]), Path(request["cells"]), Path(handed_in) if handed_in else None)
    sys.stdout.flush()
    os._exit(0)  # the answer is out: skip TensorFlow's teardown, which the host would wait for


if __name__ == "__main__":
    sys.exit(main())
