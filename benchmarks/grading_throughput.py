"""Class grading throughput: plain nbgrader against grade-all on 1 and 2 local workers and on a
separately started Dask cluster, the same class in the same run.

The class is N generated submissions, cycling through four kinds: the complete solution,
real work with the training left undone, the blank release, and a hostile notebook (that
real work, with the grading functions patched so that every grade cell claims full marks,
and a look for the gradebook).  Each way grades a
fresh copy of the same course:

* ``nbgrader, stock``: ``nbgrader autograde A`` with nbgrader's own preprocessors (the
  student's kernel unprotected, no judge), sequential: the baseline;
* ``nbgrader, safe``: ``nbgrader autograde A`` with this course's configuration (sandbox and
  clean judge), sequential: what the Formgrader's button does;
* ``grade-all, 1 worker`` and ``2 workers``: a LocalCluster on this machine;
* ``grade-all, dask scheduler + 2 dask worker``: separately started processes on 127.0.0.1.

It prints wall time, submissions per minute, the ratio to the stock baseline, the mean
seconds per kind of submission, and a projection for 500 students on K machines like this.

Before the class, one submission side by side (median of ``--repeats`` runs, interleaved):
``nbgrader autograde --student S`` of the complete solution and of the blank release, stock
and safe, and stock on the notebook without its graded-run speed-ups (no
``decoded_when_graded``, no ``faster_when_graded``: the notebook as it was before them).
After it, a class of ``--complete`` complete solutions on 2 local workers: complete
submissions per minute.

Usage (from the repository root; ~22 minutes for 8 submissions on 2 cores)::

    .venv/bin/python benchmarks/grading_throughput.py
    .venv/bin/python benchmarks/grading_throughput.py --students 4 --json artifacts/benchmark/throughput.json

A measurement, not a test: other load on the machine changes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook, submit  # noqa: E402
from autograder.host.settings import db_url  # noqa: E402
from autograder.tools.samples import cell_sources, replace_cells  # noqa: E402
from tests.dask_cluster import DaskProcesses  # noqa: E402

ASSIGNMENT = "mnist_batch_size"
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
KINDS = ("complete", "partial", "blank", "hostile")
STOCK_PIPELINE = """
# The stock pipeline: nbgrader's own preprocessors (the student's kernel unprotected).
from nbgrader.converters import Autograde as _Autograde
c.Autograde.sanitize_preprocessors = _Autograde.class_traits()["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
"""
HOSTILE = '''import glob
import autograder.grading as _grading
_grading.grade = lambda *args, out_of=0, **kwargs: out_of  # every grade cell claims full marks
_grading.require = lambda *args, **kwargs: None
for _path in glob.glob("../../../*.db") + glob.glob("/home/*/*.db"):  # the gradebook, if reachable
    print("found", _path)
'''


def kind_notebooks(work: Path) -> dict[str, Path]:
    """One notebook of each of KINDS, written into ``work`` where needed."""
    release = cell_sources(RELEASE)
    training = {gid: release[gid] for gid, src in cell_sources(SOURCE).items()
                if "train_model(" in src and src != release[gid]}
    partial = replace_cells(SOURCE, training, work / "partial.ipynb")
    first = "sizes_and_scale"  # the first cell a student writes
    hostile = replace_cells(partial, {first: HOSTILE + "\n" + cell_sources(SOURCE)[first]},
                            work / "hostile.ipynb")
    return {"complete": SOURCE, "partial": partial, "blank": RELEASE, "hostile": hostile}


def make_class(work: Path, students: int) -> Path:
    """A course with ``students`` submissions, cycling through KINDS; returns the course."""
    course = work / "class"
    make_course(course, ASSIGNMENT)
    notebooks = kind_notebooks(work)
    for i in range(students):
        kind = KINDS[i % len(KINDS)]
        submit(course, ASSIGNMENT, f"{i:03d}-{kind}", notebooks[kind])
    return course


SPEED_UPS = (  # the graded-run speed-ups in the locked cells, and the notebook without them
    ("model = faster_when_graded(compile_model(build_model()))", "model = compile_model(build_model())"),
    ("mnist_dataset = decoded_when_graded(mnist_dataset)", "pass"),
)


def without_speed_ups(work: Path) -> Path:
    """A copy of the project's config and source in which the locked cells skip the speed-ups."""
    root = work / "without-speed-ups"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    text = SOURCE.read_text()
    for used, plain in SPEED_UPS:
        assert used in text, f"the source notebook no longer has {used!r}: update SPEED_UPS"
        text = text.replace(used, plain)
    (root / "source" / ASSIGNMENT / SOURCE.name).write_text(text)
    return root


def one_submission(work: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds of ``nbgrader autograde --student S`` per way and kind (complete, blank)."""
    plain = without_speed_ups(work)
    ways = {"stock, without the speed-ups": (plain, STOCK_PIPELINE), "stock": (ROOT, STOCK_PIPELINE),
            "safe": (ROOT, "")}
    courses = {}
    for i, (way, (root, extra)) in enumerate(ways.items()):
        course = courses[way] = work / f"one{i}"
        make_course(course, ASSIGNMENT, source_root=root)
        add_config(course, extra)
        submit(course, ASSIGNMENT, "complete", root / "source" / ASSIGNMENT / SOURCE.name)
        submit(course, ASSIGNMENT, "blank", course / "release" / ASSIGNMENT / RELEASE.name)
    times: dict[str, dict[str, list[float]]] = {way: {"complete": [], "blank": []} for way in ways}
    for _ in range(repeats):
        for way, course in courses.items():
            for kind in ("complete", "blank"):
                started = time.perf_counter()
                run_nbgrader(course, "autograde", ASSIGNMENT, "--student", kind, "--force")
                times[way][kind].append(time.perf_counter() - started)
    return {way: {kind: statistics.median(v) for kind, v in kinds.items()} for way, kinds in times.items()}


def print_one_submission(medians: dict[str, dict[str, float]], repeats: int) -> None:
    print(f"\nOne submission, `nbgrader autograde --student S` (median of {repeats}, seconds):")
    print(f"{'way':<32} {'complete':>9} {'blank':>7}")
    for way, kinds in medians.items():
        print(f"{way:<32} {kinds['complete']:9.1f} {kinds['blank']:7.1f}")
    stock, safe = medians["stock"], medians["safe"]
    plain = medians["stock, without the speed-ups"]
    print(f"safe / stock: complete {safe['complete'] / stock['complete']:.2f}x, "
          f"blank {safe['blank'] / stock['blank']:.2f}x")
    print(f"the notebook's graded-run speed-ups: stock complete {plain['complete'] / stock['complete']:.2f}x "
          "faster than without them")


def add_config(course: Path, extra_config: str) -> None:
    """Append ``extra_config`` (e.g. STOCK_PIPELINE) to the course's nbgrader_config.py."""
    if extra_config:
        with (course / "nbgrader_config.py").open("a") as f:
            f.write(extra_config)


def copy_course(course: Path, to: Path, extra_config: str = "") -> Path:
    shutil.copytree(course, to)
    add_config(to, extra_config)
    return to


def timed_nbgrader(course: Path) -> float:
    started = time.perf_counter()
    run_nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return time.perf_counter() - started


def timed_grade_all(course: Path, **settings) -> tuple[float, dict[str, float]]:
    """Wall seconds of grade-all, and each student's seconds on its worker."""
    from traitlets.config import Config

    from autograder.host.classroom import grade_all
    from autograder.host.settings import load_settings

    started = time.perf_counter()
    summary = grade_all(course, ASSIGNMENT, load_settings(course, Config({"SafeGrading": settings})),
                        progress=False)
    wall = time.perf_counter() - started
    bad = [o.student for o in summary.failed]
    if bad:
        raise RuntimeError(f"could not grade {bad}")
    return wall, {o.student: o.seconds for o in summary.outcomes}


def projection(seconds_per_submission: float, workers_per_machine: int) -> list[str]:
    """500 students on K machines like this one, from the measured cost per submission."""
    lines = ["Projection for 500 students (measured cost per submission, machines like this one):"]
    for machines in (1, 5, 10, 25):
        minutes = 500 * seconds_per_submission / (machines * workers_per_machine) / 60
        lines.append(f"  {machines:>2} machine(s) x {workers_per_machine} workers: {minutes:6.0f} min")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=8, help="submissions in the class (default 8)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per way for one submission (default 5)")
    parser.add_argument("--complete", type=int, default=4,
                        help="complete solutions in the last class, on 2 workers (default 4)")
    parser.add_argument("--json", type=Path, help="also save the figures here")
    args = parser.parse_args(argv)

    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}", flush=True)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        work = Path(tmp)
        one = one_submission(work, args.repeats)
        print_one_submission(one, args.repeats)
        print(flush=True)
        course = make_class(work, args.students)
        ways = {
            "nbgrader, stock (baseline)": lambda c: (timed_nbgrader(c), {}),
            "nbgrader, safe": lambda c: (timed_nbgrader(c), {}),
            "grade-all, 1 worker": lambda c: timed_grade_all(c, workers=1),
            "grade-all, 2 workers": lambda c: timed_grade_all(c, workers=2),
            "grade-all, dask scheduler + 2 dask worker": None,
        }
        grades: dict[str, dict] = {}
        for i, (name, run) in enumerate(ways.items()):
            copy = copy_course(course, work / f"way{i}", STOCK_PIPELINE if "stock" in name else "")
            if run is None:
                with DaskProcesses(workers=2) as cluster:  # the tests' real dask processes
                    wall, per = timed_grade_all(copy, scheduler=cluster.address)
            else:
                wall, per = run(copy)
            url = db_url(copy)
            grades[name] = {s: sum(p for _, p, _ in scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, s))
                            for s in sorted(p.name for p in (copy / "submitted").iterdir())}
            results[name] = {"wall_seconds": wall, "per_submission": per,
                             "per_minute": 60 * args.students / wall}
            print(f"{name:<44} {wall:7.1f} s  {results[name]['per_minute']:5.2f} submissions/min", flush=True)
        complete_class = work / "complete-class"
        make_course(complete_class, ASSIGNMENT)
        for i in range(args.complete):
            submit(complete_class, ASSIGNMENT, f"{i:03d}-complete", SOURCE)
        complete_wall, _ = timed_grade_all(complete_class, workers=2)

    base = results["nbgrader, stock (baseline)"]["wall_seconds"]
    print(f"\n{args.students} submissions ({', '.join(KINDS)} in turn); ratio = stock nbgrader's wall time / "
          "this way's (higher is faster)")
    print(f"{'way':<44} {'wall s':>8} {'subs/min':>9} {'ratio':>6}")
    for name, r in results.items():
        print(f"{name:<44} {r['wall_seconds']:8.1f} {r['per_minute']:9.2f} {base / r['wall_seconds']:5.2f}x")
    one = results["grade-all, 1 worker"]["per_submission"]
    print("\nMean seconds per submission on a worker (grade-all, 1 worker):")
    for kind in KINDS:
        values = [s for student, s in one.items() if student.endswith(kind)]
        print(f"  {kind:<9} {statistics.mean(values):6.1f} s")
    safe = {k: v for k, v in grades.items() if "stock" not in k}
    same = len({json.dumps(v, sort_keys=True) for v in safe.values()}) == 1
    stock, graded = grades["nbgrader, stock (baseline)"], next(iter(safe.values()))
    fooled = {s: (stock[s], graded[s]) for s in stock if stock[s] != graded[s]}
    print(f"\nThe safe ways agree on every student's score: {same}. Where stock nbgrader differs "
          f"(student: stock, safe): {fooled or 'nowhere'}")
    print(f"\nA class of {args.complete} complete solutions, grade-all on 2 workers: {complete_wall:.1f} s, "
          f"{60 * args.complete / complete_wall:.2f} complete submissions per minute")
    two = results["grade-all, 2 workers"]["wall_seconds"] / args.students
    print()
    print("\n".join(projection(two * 2, 2)))
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"students": args.students, "results": results, "grades": grades,
                                         "one_submission": one, "complete_class": {
                                             "submissions": args.complete, "wall_seconds": complete_wall}},
                                        indent=1) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
