"""Runs on the host: grade a whole class, every collected submission, on a Dask cluster.

Each submission is a pure task (:func:`autograder.host.task.grade_submission`): its files
and the assignment's generated course go to a worker, which grades them with nbgrader's safe
pipeline and sends back the graded notebooks.  This process collects the results one at a
time and records them with nbgrader (:mod:`autograder.host.collect`), so the gradebook
(SQLite, PostgreSQL, any database nbgrader's ``db_url`` names) and ``autograded/`` are
written as the Formgrader's button would, by one process only.  A submission that hangs or
crashes its grader never stops the class; grading again gives the same results.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm
from traitlets.config import Config

from autograder.host.autograde import assignment_notebooks, outer_limit, settings_arguments
from autograder.host.bundle import CourseBundle, course_bundle
from autograder.host.cluster import dask_client, worker_count
from autograder.host.collect import Recorder, already_graded
from autograder.host.course import GradingError, submissions
from autograder.host.report import ClassSummary, Outcome
from autograder.host.sandbox import tools
from autograder.host.settings import SafeGrading, course_config, db_url, load_settings
from autograder.host.task import Submission, grade_submission, pack_submission, worker_problems


def _select(found: dict[str, Path], students: Iterable[str] | None) -> dict[str, Path]:
    """The submissions of the named students; GradingError naming any without one."""
    if not students:
        return found
    wanted = list(dict.fromkeys(students))
    missing = [s for s in wanted if s not in found]
    if missing:
        raise GradingError(f"no submission from {', '.join(missing)} (students with one: "
                           f"{', '.join(list(found)[:10]) or 'none'})")
    return {s: found[s] for s in wanted}


def _check_workers(client, package: str) -> None:
    """Refuse to start when a worker cannot grade, naming the worker and what it lacks."""
    answers = client.run(worker_problems, package)
    unfit = {address: problems for address, problems in answers.items() if problems}
    if unfit:
        raise GradingError("; ".join(f"Dask worker {address} cannot grade: {' / '.join(problems)}"
                                     for address, problems in unfit.items()))


def _failure(student: str, exc: BaseException) -> Outcome:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        why = "the Dask worker grading it died, and so did the one it was retried on"
    else:
        why = f"grading failed: {type(exc).__name__}: {exc}"
    return Outcome(student, problems=[why], failed=True)


def grade_all(course: Path, assignment: str, settings: SafeGrading | None = None,
              progress: bool = True, overrides: Config | None = None,
              students: Iterable[str] | None = None, only_new: bool = False) -> ClassSummary:
    """Grade the submissions of ``assignment`` in ``course``; one failure never stops the rest.

    ``students`` limits it to those; ``only_new`` skips submissions graded before and unchanged
    since (so a run stopped by Ctrl-C resumes).  ``settings`` (limits, workers, the Dask
    scheduler) and the gradebook default to nbgrader's configuration of the course
    (:func:`autograder.host.settings.course_config`), with ``overrides`` (the command line) last.
    """
    course = course.resolve()
    config = course_config(course, overrides)
    settings = settings or load_settings(course, overrides)
    if not settings.scheduler:
        tools()  # refuse to run student code here without the sandbox
    url = db_url(course, config)
    found = submissions(course, assignment)
    if not found:
        raise GradingError(f"no submissions for {assignment!r} under {course / 'submitted'}")
    chosen = _select(found, students)
    notebooks = assignment_notebooks(url, assignment)
    recorder = Recorder(course, config, url, assignment, notebooks)
    packed: dict[str, Submission] = {s: pack_submission(folder, s, assignment, recorder.ignore)
                                     for s, folder in chosen.items()}
    summary = ClassSummary()
    if only_new:
        summary.skipped = [s for s, sub in packed.items()
                           if already_graded(recorder.autograded(s), sub.fingerprint)]
        packed = {s: sub for s, sub in packed.items() if s not in summary.skipped}
    started = time.perf_counter()
    if packed:
        _grade(course, assignment, settings, packed, recorder, summary, progress)
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _ctrl_c_remembered() -> Iterator[threading.Event]:
    """Ctrl-C while grading, remembered: grade-all stops even if a library swallows the KeyboardInterrupt."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield pressed
        return

    def on_ctrl_c(signum: int, frame: object) -> None:
        pressed.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _grade(course: Path, assignment: str, settings: SafeGrading, packed: dict[str, Submission],
           recorder: Recorder, summary: ClassSummary, progress: bool) -> None:
    """Send every submission to the cluster and record each result as it arrives."""
    from distributed import as_completed

    bundle = course_bundle(course, assignment)
    arguments, limit = settings_arguments(settings), outer_limit(settings)
    with dask_client(settings) as client, \
            tqdm(total=len(packed), desc="grading", unit="submission", disable=not progress) as bar:
        _check_workers(client, bundle.package)
        summary.workers = worker_count(client)
        # A task holding the bundle, not scattered data: if every worker holding it dies, the
        # scheduler makes it again from the task instead of losing it.
        shipped = client.submit(_bundle, bundle, key=f"bundle-{bundle.key}-{uuid.uuid4().hex[:8]}")
        with warnings.catch_warnings():  # submissions travel in the task graph: up to 100 MB, by design
            warnings.filterwarnings("ignore", message="Sending large graph")
            futures = {client.submit(grade_submission, shipped, sub, arguments, limit,
                                     key=f"grade-{student}-{uuid.uuid4().hex[:8]}"): student
                       for student, sub in packed.items()}
        try:
            with _ctrl_c_remembered() as ctrl_c:
                for future in as_completed(futures):
                    student = futures[future]
                    try:
                        outcome = recorder.record(future.result())
                    except Exception as exc:  # this one could not be graded: report it, keep the class going
                        outcome = _failure(student, exc)
                        recorder.write_logs(outcome, packed[student].fingerprint, "")
                    summary.outcomes.append(outcome)
                    bar.update()
                    bar.set_postfix(failed=len(summary.failed), refresh=False)
                    if ctrl_c.is_set():  # pressed, but its KeyboardInterrupt was lost on the way
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            client.cancel(list(futures))
            summary.interrupted = True


def _bundle(bundle: CourseBundle) -> CourseBundle:
    """The generated course, as a task's result that every grading task depends on."""
    return bundle
