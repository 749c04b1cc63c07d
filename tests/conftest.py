"""Shared fixtures: the offline MNIST folder, throwaway copies of it, and the prepared dataset."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _idx_dir() -> Path:
    return Path(os.environ.get("MNIST_IDX_DIR", ROOT.parent / "shared" / "mnist")).resolve()


@pytest.fixture(scope="session")
def idx_dir() -> Path:
    """The folder with the four original MNIST IDX .gz files (MNIST_IDX_DIR)."""
    path = _idx_dir()
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST IDX files not found in {path}: set MNIST_IDX_DIR to that folder")
    return path


@pytest.fixture
def idx_copy(idx_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the IDX folder that a test may damage."""
    copy = tmp_path / "idx"
    copy.mkdir()
    for f in idx_dir.glob("*.gz"):
        shutil.copyfile(f, copy / f.name)
    return copy


def run_module(*args: str, env: dict[str, str] | None = None, timeout: float = 600):
    """Run ``python -m ARGS`` with the project's interpreter; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def prepared_mnist(idx_dir: Path) -> None:
    """Make sure TFDS's mnist is prepared in the default data dir, so tfds.load works offline."""
    from mnist_ref.offline_data import prepare

    prepare(idx_dir)


SOURCE_NOTEBOOK = ROOT / "source" / "mnist_batch_size" / "mnist_batch_size.ipynb"
RELEASE_NOTEBOOK = ROOT / "release" / "mnist_batch_size" / "mnist_batch_size.ipynb"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A fresh nbgrader course directory with the assignment generated (gradebook included)."""
    from autograder.pipeline import make_course

    course = tmp_path / "course"
    make_course(course)
    return course

