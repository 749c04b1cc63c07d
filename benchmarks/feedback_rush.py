"""A deadline rush through feedback on submit, beside grade-all on the same submissions, in one run.

``--students`` submissions (default 40), cycling through the four kinds of
``grading_throughput.py`` (the complete solution, real work with the training undone, the blank
release, a hostile notebook), land in nbgrader's exchange at random moments within one minute,
laid out as ``nbgrader submit`` lays them out (a real ``nbgrader submit`` made the template),
while the feedback service (:mod:`autograder.host.feedback_service`) runs on this machine's
local cluster.  It prints, for every submission, the time from landing in the exchange to its
feedback released, as median, 95th percentile and worst, the service's throughput, and how
many were lost (none may be); then grade-all's throughput on the same collected submissions.

Usage (from the repository root; about 15 minutes for 40 submissions on 2 cores)::

    .venv/bin/python benchmarks/feedback_rush.py
    .venv/bin/python benchmarks/feedback_rush.py --students 20 --json artifacts/benchmark/rush.json

A measurement, not a test: other load on the machine changes the numbers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from grading_throughput import ASSIGNMENT, KINDS, kind_notebooks  # noqa: E402

from autograder.host.course import make_course, nbgrader_env, run_nbgrader  # noqa: E402

COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def course_with_exchange(work: Path) -> tuple[Path, Path]:
    """A course with feedback on submit on, the assignment released to its own exchange."""
    exchange = work / "exchange"
    exchange.mkdir(mode=0o1777)
    os.environ["NBGRADER_EXCHANGE"] = os.fspath(exchange)  # the course's config reads it
    course = work / "course"
    make_course(course, ASSIGNMENT)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.FeedbackOnSubmit.enabled = True\nc.FeedbackOnSubmit.poll_seconds = 1.0\n")
    run_nbgrader(course, "release_assignment", ASSIGNMENT)
    return course, exchange


def template_submission(work: Path, course: Path, exchange: Path) -> Path:
    """A folder as a real ``nbgrader submit`` leaves it in inbound/, moved out of the exchange."""
    student = work / "template-student"
    folder = student / COURSE_ID / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copyfile(course / "release" / ASSIGNMENT / NOTEBOOK, folder / NOTEBOOK)
    subprocess.run([sys.executable, "-m", "nbgrader", "submit", ASSIGNMENT, f"--course={COURSE_ID}",
                    f"--Exchange.root={exchange}", "--Exchange.path_includes_course=True",
                    f"--Exchange.cache={work / 'cache'}", "--CourseDirectory.student_id=template"],
                   cwd=student, env=nbgrader_env(), check=True, capture_output=True)
    (made,) = (exchange / COURSE_ID / "inbound").iterdir()
    return Path(shutil.move(made, work / "template-submission"))


def land(template: Path, inbound: Path, student: str, notebook: Path) -> None:
    """``student``'s submission of ``notebook`` in inbound/, named and stamped as nbgrader does, at once."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    staging = inbound.parent / f".{student}"
    shutil.copytree(template, staging)
    shutil.copyfile(notebook, staging / NOTEBOOK)
    (staging / "timestamp.txt").write_text(stamp)
    staging.rename(inbound / f"{student}+{ASSIGNMENT}+{stamp}+{random.randbytes(4).hex()}")


def rush(course: Path, exchange: Path, template: Path, notebooks: dict[str, Path], students: int,
         window: float, limit: float) -> dict:
    """Submissions landing within ``window`` seconds while the service runs; each one's latency."""
    from autograder.host.feedback_service import FeedbackService

    service = FeedbackService(course)
    stop = threading.Event()
    worker = threading.Thread(target=service.serve, args=(stop,), daemon=True)
    worker.start()
    inbound = exchange / COURSE_ID / "inbound"
    moments = sorted(random.uniform(0, window) for _ in range(students))
    landed: dict[str, float] = {}
    started = time.time()
    for i, moment in enumerate(moments):
        time.sleep(max(0.0, started + moment - time.time()))
        student = f"s{i:03d}-{KINDS[i % len(KINDS)]}"
        land(template, inbound, student, notebooks[KINDS[i % len(KINDS)]])
        landed[student] = time.time()
    while time.time() < started + limit:
        jobs = {job.student: job for job in service.queue.jobs()}
        if len(jobs) == students and all(job.state in ("done", "failed") for job in jobs.values()):
            break
        time.sleep(1)
    stop.set()
    worker.join(timeout=600)
    jobs = {job.student: job for job in service.queue.jobs()}
    finished = {s: j.finished for s, j in jobs.items() if j.state in ("done", "failed") and j.finished}
    latency = sorted(finished[s] - landed[s] for s in finished)
    return {"students": students, "window_seconds": window,
            "released": sum(j.state == "done" for j in jobs.values()),
            "failed": sorted(s for s, j in jobs.items() if j.state == "failed"),
            "lost": sorted(set(landed) - set(finished)),
            "latency_median": statistics.median(latency) if latency else None,
            "latency_p95": latency[max(0, round(0.95 * len(latency)) - 1)] if latency else None,
            "latency_worst": latency[-1] if latency else None,
            "per_minute": 60 * len(finished) / (max(finished.values()) - min(landed.values()))
            if finished else 0.0}


def grade_all_throughput(course: Path, work: Path) -> dict:
    """grade-all on a copy of the course, whose submitted/ holds what the service collected."""
    from autograder.host.classroom import grade_all

    copy = work / "grade-all"
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns(".feedback", "feedback", "autograded"))
    text = (copy / "nbgrader_config.py").read_text().replace(os.fspath(course), os.fspath(copy))
    (copy / "nbgrader_config.py").write_text(text)
    started = time.perf_counter()
    summary = grade_all(copy, ASSIGNMENT, progress=False)
    wall = time.perf_counter() - started
    return {"graded": len(summary.outcomes), "failed": [o.student for o in summary.failed],
            "seconds": wall, "per_minute": 60 * len(summary.outcomes) / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the submissions land within")
    parser.add_argument("--limit", type=float, default=3600.0, help="seconds to wait for every feedback")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="feedback-rush-") as tmp:
        work = Path(tmp)
        course, exchange = course_with_exchange(work)
        template = template_submission(work, course, exchange)
        notebooks = kind_notebooks(work)
        service = rush(course, exchange, template, notebooks, args.students, args.window, args.limit)
        batch = grade_all_throughput(course, work)
    print(f"\n{args.students} submissions ({', '.join(KINDS)} in turn) landing within {args.window:.0f} s")
    print(f"feedback on submit: {service['released']} released, {len(service['failed'])} failed, "
          f"{len(service['lost'])} lost")
    print(f"  submission to released feedback: median {service['latency_median']:.0f} s, "
          f"95th percentile {service['latency_p95']:.0f} s, worst {service['latency_worst']:.0f} s")
    print(f"  throughput: {service['per_minute']:.1f} submissions per minute")
    print(f"grade-all, same submissions: {batch['graded']} graded in {batch['seconds']:.0f} s, "
          f"{batch['per_minute']:.1f} submissions per minute")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"service": service, "grade_all": batch}, indent=1) + "\n")
    return 0 if not service["lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
