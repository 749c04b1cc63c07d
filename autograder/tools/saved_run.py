"""Exercise 10's saved run for a notebook of the second assignment, made as a student makes it.

A student runs the exercise-10 cell in JupyterLab, which trains their ``BEST`` settings at full
size and saves ``exercise10_run.npz``; the demo and the tests need that file beside the solution.
This runs the notebook's own cells that lead to it (setup, data, pipeline, model, ``train_model``,
``BEST`` and the exercise-10 run) in a kernel outside nbgrader, so the run is full size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from autograder.evidence.records import SAVED_RUN

CELLS = ("setup", "load_mnist", "pipeline", "model", "train_model", "ex10_settings", "ex10_run")
CACHE = Path(tempfile.gettempdir()) / "mnist-course-saved-runs"  # one file per version of those cells


def _cells(notebook: Path) -> list[nbformat.NotebookNode]:
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in CELLS]
    if len(cells) != len(CELLS):
        raise ValueError(f"{notebook} lacks some of the cells {CELLS} that exercise 10's run needs")
    return cells


def needs_saved_run(notebook: Path) -> bool:
    """Whether ``notebook`` has exercise 10's cells (the second assignment)."""
    try:
        _cells(notebook)
    except ValueError:
        return False
    return True


def make_saved_run(notebook: Path, into: Path, timeout: float = 1800) -> Path:
    """Train ``notebook``'s exercise-10 settings at full size and put ``exercise10_run.npz`` in ``into``.

    The run is cached per version of the cells it comes from (in the temporary folder), so a
    second call copies the file instead of training for minutes again.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    from autograder.host.kernel_stderr import startup_lines_dropped
    from mnist_ref import QUIET_TF_LOG_LEVEL

    cells = _cells(notebook)
    key = hashlib.sha256("\n\0".join(c.source for c in cells).encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.npz"
    into.mkdir(parents=True, exist_ok=True)
    if not cached.is_file():
        with tempfile.TemporaryDirectory(prefix="saved-run-") as work:
            env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}  # full size
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_TF_LOG_LEVEL)
            metadata = nbformat.read(notebook, as_version=4).metadata
            nb = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
            # Unix sockets in the scratch folder: no TCP port, so no "running over TCP" warning either.
            km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(Path(work) / "kernel"))
            client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": work}})
            with startup_lines_dropped(int(env["TF_CPP_MIN_LOG_LEVEL"])) as stderr:
                client.execute(env=env, stderr=stderr)
            CACHE.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(work) / SAVED_RUN, cached)
    return Path(shutil.copyfile(cached, into / SAVED_RUN))
