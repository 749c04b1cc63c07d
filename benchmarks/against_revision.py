"""One complete submission graded by this checkout and by an earlier revision, side by side.

``nbgrader autograde --student S`` of the reference solution (what the Formgrader's Autograde
button runs), in a course made by each version's own ``make_course``, the two interleaved
``--repeats`` times on the same machine in one run; it prints each run, the medians, their
ratio and each version's score.  The earlier revision is checked out with ``git worktree`` into
a temporary folder and imported from there (``PYTHONPATH``); both use this virtualenv.

Usage (from the repository root; about 1 minute per repeat)::

    .venv/bin/python benchmarks/against_revision.py --base HEAD~1 [--repeats 5] \
        [--assignment mnist_hyperparameters]

The second assignment's submission hands in exercise 10's saved run, made once from this
checkout's solution (:func:`autograder.tools.saved_run.make_saved_run`, cached).

A measurement, not a test: other load on the machine changes the numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_COURSE = """
import shutil, sys
from pathlib import Path
from autograder.host.course import make_course, submit
course, tree, assignment = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
make_course(course, assignment)
notebook = submit(course, assignment, "s", tree / "source" / assignment / f"{assignment}.ipynb")
if len(sys.argv) > 4:
    shutil.copy(sys.argv[4], notebook.parent)
"""
SCORE = """
import sys
from autograder.host.course import scores_from_gradebook
url = f"sqlite:///{sys.argv[1]}/gradebook.db"
rows = scores_from_gradebook(url, sys.argv[2], sys.argv[2], "s")
print(sum(r[1] for r in rows), sum(r[2] for r in rows))
"""


def env_for(code: Path | None) -> dict[str, str]:
    """This interpreter's environment, importing the project from ``code`` (None: this checkout)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed in {cwd}:\n{proc.stderr[-2000:]}")
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the earlier revision (default HEAD~1)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per version (default 5)")
    parser.add_argument("--assignment", default="mnist_batch_size",
                        choices=["mnist_batch_size", "mnist_hyperparameters"])
    args = parser.parse_args()
    handed_in: list[str] = []
    if args.assignment == "mnist_hyperparameters":
        from autograder.tools.saved_run import make_saved_run

        source = ROOT / "source" / args.assignment / f"{args.assignment}.ipynb"
        handed_in = [str(make_saved_run(source, Path(tempfile.mkdtemp(prefix="saved-run-"))))]
    with tempfile.TemporaryDirectory(prefix="against-revision-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            versions = {"this checkout": (None, ROOT), f"{args.base}": (base, base)}
            courses, seconds = {}, {name: [] for name in versions}
            for name, (code, tree) in versions.items():
                courses[name] = Path(tmp) / f"course-{len(courses)}"
                run(["-c", MAKE_COURSE, str(courses[name]), str(tree), args.assignment, *handed_in],
                    env_for(code), tree)
            for i in range(args.repeats):
                for name, (code, _) in versions.items():
                    started = time.perf_counter()
                    run(["-m", "nbgrader", "autograde", args.assignment, "--student", "s", "--force"],
                        env_for(code), courses[name])
                    seconds[name].append(time.perf_counter() - started)
                    print(f"run {i + 1}: {name:15s} {seconds[name][-1]:6.1f} s", flush=True)
            medians = {name: statistics.median(values) for name, values in seconds.items()}
            print(f"\n{args.assignment}: complete solution, nbgrader autograde --student, median of",
                  args.repeats)
            for name, (code, _) in versions.items():
                score = run(["-c", SCORE, str(courses[name]), args.assignment], env_for(code),
                            ROOT).stdout.split()
                print(f"  {name:15s} {medians[name]:6.1f} s   score {score[0]} / {score[1]}")
            this, earlier = medians["this checkout"], medians[args.base]
            print(f"  this checkout / {args.base}: {this / earlier:.3f}x")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
