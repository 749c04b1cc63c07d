"""Helpers the tests share (imported explicitly; conftest.py holds only fixtures)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import numpy as np
from traitlets.config import Config

from mnist_ref.decoded_cache import Decoded

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "mnist_batch_size"
SOURCE_NOTEBOOK = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE_NOTEBOOK = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def run_module(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
               cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m ARGS`` with the project's interpreter; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def config_in(folder: Path, config: str) -> Path:
    """``folder`` with an nbgrader_config.py holding ``config`` (after ``c = get_config()``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + config)
    return folder


def one_line(stderr: str) -> str:
    """The single line a command printed on stderr (fails when it printed more, or none)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports on 127.0.0.1 that nothing listens on."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no free consecutive ports on 127.0.0.1")


def grading_settings(course: Path, **safe_grading: float):
    """The course's SafeGrading settings with some traits overridden (timeout=60, workers=2, ...)."""
    from autograder.host.settings import load_settings

    return load_settings(course, Config({"SafeGrading": safe_grading}))


def cell_messages(autograded: Path) -> dict[str, str]:
    """grade_id -> the text a grade cell printed (its verdict) or its error, in an autograded notebook."""
    messages: dict[str, str] = {}
    for cell in nbformat.read(autograded, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        messages[meta["grade_id"]] = "".join(parts).strip()
    return messages


# A fake prepared MNIST and synthetic decoded arrays (tests of the decoded-array cache).
N_TRAIN, N_TEST = 12, 5
TFRECORDS = ("mnist-train.tfrecord-00000-of-00001", "mnist-test.tfrecord-00000-of-00001")


def fake_dataset(data_dir: Path, n_train: int = N_TRAIN, n_test: int = N_TEST) -> Path:
    """A folder laid out like TFDS's prepared mnist/3.0.1 (dataset_info.json, two shards)."""
    folder = data_dir / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    splits = [{"name": name, "shardLengths": [str(n)]} for name, n in (("train", n_train), ("test", n_test))]
    (folder / "dataset_info.json").write_text(json.dumps({"name": "mnist", "splits": splits}))
    for name in TFRECORDS:
        (folder / name).write_bytes(name.encode() * 10)
    return folder


def synthetic(seed: int = 0, n_train: int = 12, n_test: int = 5) -> Decoded:
    """Random uint8 images and int64 labels of MNIST's shapes and dtypes (N_TRAIN, N_TEST by default).

    Self-contained: the writer processes of tests/test_decoded_cache.py run its source.
    """
    rng = np.random.default_rng(seed)
    return Decoded(rng.integers(0, 256, (n_train, 28, 28, 1), dtype=np.uint8),
                   rng.integers(0, 10, n_train, dtype=np.int64),
                   rng.integers(0, 256, (n_test, 28, 28, 1), dtype=np.uint8),
                   rng.integers(0, 10, n_test, dtype=np.int64))


@contextmanager
def private_tmpdir(monkeypatch) -> Iterator[Path]:
    """A TMPDIR of its own for the graders a test starts (its scratch folders, and so its kernels'
    command lines, name it); short, since the kernels' Unix sockets live there; removed after."""
    folder = Path(tempfile.mkdtemp(prefix="grader-tmp-"))
    monkeypatch.setenv("TMPDIR", str(folder))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
