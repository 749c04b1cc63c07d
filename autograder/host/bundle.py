"""Runs on the host and on grading workers: an assignment's generated course, made once, shipped as bytes.

A worker grades a submission in a course of its own: the real course's ``nbgrader_config.py``,
its ``source/ASSIGNMENT`` and a SQLite gradebook holding the assignment's trusted cells, as
``nbgrader generate_assignment`` makes them.  The host generates that course once per
assignment, configuration and autograder version (cached on disk), and sends it to every
worker as a :class:`CourseBundle`; a worker unpacks it once and copies it for each submission.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from autograder.host.course import make_course
from autograder.host.sandbox import PACKAGES, PROJECT

CACHE_ENV = "AUTOGRADER_CACHE_DIR"


@dataclass(frozen=True)
class CourseBundle:
    """A generated course for one assignment: relative path -> bytes, and a key naming its content."""

    assignment: str
    files: dict[str, bytes]
    key: str
    package: str  # package_fingerprint() of the host that made it; workers must run the same code


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """SHA-256 over the autograder's and mnist_ref's source, as this process first found it.

    Computed once per process: a worker's answer is the code it loaded when it started.
    """
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where generated courses are kept: ``$AUTOGRADER_CACHE_DIR``, else ``~/.cache/mnist-autograder``."""
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mnist-autograder")
    return Path(base)


def _inputs(course: Path, assignment: str) -> dict[str, bytes]:
    """The course files a generated course depends on: its configuration and the assignment's source."""
    source = course / "source" / assignment
    files = {"nbgrader_config.py": (course / "nbgrader_config.py").read_bytes()}
    for path in sorted(source.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts and "__pycache__" not in path.parts:
            files[str(path.relative_to(course))] = path.read_bytes()
    return files


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:20]


def _read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _publish(build: Path, final: Path) -> None:
    """Move a finished folder into place atomically; another process that got there first wins."""
    try:
        os.rename(build, final)
    except OSError:  # already there (made by another process at the same time): keep that one
        shutil.rmtree(build, ignore_errors=True)


def course_bundle(course: Path, assignment: str) -> CourseBundle:
    """``assignment`` of ``course`` generated in a course of its own (cached), as a bundle for workers."""
    inputs = _inputs(course, assignment)
    key = _digest(inputs)  # nbgrader's generate_assignment reads only these
    generated = cache_dir() / "generated" / key
    if not (generated / "gradebook.db").is_file():
        generated.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=generated.parent))
        try:
            make_course(build / "course", assignment, source_root=course)
            shutil.rmtree(build / "course" / "release", ignore_errors=True)  # workers need no release
            _publish(build / "course", generated)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return CourseBundle(assignment, _read_tree(generated), key, package_fingerprint())


def unpack(bundle: CourseBundle) -> Path:
    """The bundle as a course folder on this machine (written once, then reused); copy it, don't change it.

    In this user's cache, not a folder in /tmp that every user shares: another user could not
    write there (the feedback service runs as the instructor), or could plant a course in it.
    """
    root = cache_dir() / "unpacked" / bundle.key
    if not (root / "gradebook.db").is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{bundle.key}-", dir=root.parent))
        for name, data in bundle.files.items():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            (build / name).write_bytes(data)
        _publish(build, root)
    return root
