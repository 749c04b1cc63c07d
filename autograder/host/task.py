"""Runs on a grading worker (a Dask worker, or this process): one submission in, one result out.

:func:`grade_submission` is a pure task: it gets the submission's files and the assignment's
generated course as bytes, grades them with ``nbgrader autograde`` (the course's safe
pipeline: sandboxed kernel, clean judge) in a course of its own that it deletes afterwards,
and returns the graded notebooks, notes and log.  It touches no shared state: the real
gradebook and ``autograded/`` are written by the collecting process (:mod:`autograder.host.collect`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder.host.autograde import assignment_notebooks, autograde_here, look_at_submission
from autograder.host.bundle import CourseBundle, package_fingerprint, unpack
from autograder.host.sandbox import SandboxUnavailable, tools
from autograder.host.settings import command_line_config, course_config

MAX_SUBMISSION_BYTES = 100 * 2**20  # notebooks and the files handed in beside them


class WorkerNotReady(RuntimeError):
    """This machine cannot grade: the message names what is missing and how to provide it."""


@dataclass(frozen=True)
class Submission:
    """One student's collected submission: its files (relative path -> bytes) and their fingerprint."""

    student: str
    assignment: str
    files: dict[str, bytes]
    fingerprint: str


@dataclass
class TaskResult:
    """What grading one submission produced on a worker; the collecting process records it."""

    student: str
    fingerprint: str
    graded: dict[str, str] = field(default_factory=dict)  # notebook name -> graded notebook (JSON)
    notes: list[str] = field(default_factory=list)
    gradable: bool = True
    failure: str | None = None  # nbgrader itself failed or was stopped: nothing new to record
    log: str = ""
    seconds: float = 0.0
    worker: str = ""


def submission_files(folder: Path, ignore: list[str]) -> dict[str, bytes]:
    """The files of a submitted folder that nbgrader would take (``CourseDirectory.ignore`` left out).

    Symbolic links are left out too: a link to a file of the host's must not travel to a worker.
    """
    files = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        rel = path.relative_to(folder)
        ignored = any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in ignore)
        if path.is_file() and not path.is_symlink() and not ignored:
            files[str(rel)] = path.read_bytes()
    return files


def fingerprint(files: dict[str, bytes]) -> str:
    """SHA-256 over names and contents: a resubmission (new timestamp.txt included) changes it."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def pack_submission(folder: Path, student: str, assignment: str, ignore: list[str]) -> Submission:
    """A collected submission folder as a :class:`Submission`."""
    files = submission_files(folder, ignore)
    return Submission(student, assignment, files, fingerprint(files))


def worker_problems(package: str) -> list[str]:
    """What this machine lacks to grade, each with how to provide it (empty: ready)."""
    from mnist_ref.offline_data import is_prepared, tfds_data_dir

    problems = []
    try:
        tools()
    except SandboxUnavailable as exc:
        problems.append(str(exc))
    if not is_prepared():
        problems.append(f"the MNIST dataset is not prepared in {tfds_data_dir()}: run "
                        "`python -m mnist_ref prepare-data` with MNIST_IDX_DIR set, or set TFDS_DATA_DIR "
                        "to a folder where it is prepared")
    mine = package_fingerprint()
    if mine != package:
        problems.append(f"this worker runs different autograder code ({mine}) from the host's ({package}): "
                        "install the same version of the package on every worker")
    return problems


def _dask_worker():
    """The Dask worker running this task, or None outside one."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _give_up(student: str, limit: float) -> None:
    """Past the limit nbgrader is stuck: end this worker (its nanny starts a new one; the task is
    retried once elsewhere, then reported)."""
    print(f"grading {student} took over {limit:g} s: stopping this worker", file=sys.stderr, flush=True)
    os._exit(70)


@contextmanager
def _watchdog(student: str, limit: float) -> Iterator[None]:
    """On a Dask worker, end the worker process if grading runs past ``limit`` seconds."""
    if _dask_worker() is None:
        yield
        return
    timer = threading.Timer(limit, _give_up, (student, limit))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def grade_submission(bundle: CourseBundle, submission: Submission, arguments: list[str],
                     limit: float) -> TaskResult:
    """Grade ``submission`` with nbgrader (in this process) in a private copy of the bundle's course.

    Nothing is kept.  ``arguments`` are the SafeGrading settings as nbgrader arguments; on a
    Dask worker, grading past ``limit`` seconds ends the worker.  Raises WorkerNotReady when
    this machine cannot grade.
    """
    started = time.perf_counter()
    problems = worker_problems(bundle.package)
    if problems:
        raise WorkerNotReady(f"{socket.gethostname()} cannot grade: " + "; ".join(problems))
    student, assignment = submission.student, submission.assignment
    worker = _dask_worker()
    name = worker.address if worker else socket.gethostname()
    result = TaskResult(student, submission.fingerprint, worker=name)
    with tempfile.TemporaryDirectory(prefix="grade-task-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(unpack(bundle), course)
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for rel, data in submission.files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        size = sum(len(data) for data in submission.files.values())
        url = f"sqlite:///{course / 'gradebook.db'}"
        notebooks = assignment_notebooks(url, assignment)
        result.notes, result.gradable = look_at_submission(folder, notebooks)
        if size > MAX_SUBMISSION_BYTES:
            result.notes.append(f"the submission holds {size >> 20} MB of files, over the "
                                f"{MAX_SUBMISSION_BYTES >> 20} MB limit: hand in the notebook without "
                                "data or model files")
            result.gradable = False
        if result.gradable:
            overrides = command_line_config(arguments)
            overrides.CourseDirectory.root, overrides.CourseDirectory.db_url = str(course), url
            config = course_config(course, overrides)
            with _watchdog(student, limit):
                result.failure, result.log = autograde_here(config, assignment, student)
            graded = course / "autograded" / student / assignment
            result.graded = {name: (graded / f"{name}.ipynb").read_text() for name in notebooks
                             if (graded / f"{name}.ipynb").is_file()}
    result.seconds = time.perf_counter() - started
    return result
