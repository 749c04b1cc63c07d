"""Runs on the host: what is wrong with one submission, and the judge's verdicts put into it.

Plain functions on notebooks and verdicts, used by the nbgrader preprocessors
(:mod:`autograder.host.preprocessors`):
structural changes to the graded cells, a notebook too big to run, kernel events (interrupts,
memory, exits), points the kernel claimed that the judge does not confirm, and the judge
itself, run as a clean process in the sandbox.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import stat
import subprocess
import weakref
from pathlib import Path

import nbformat

from autograder.host.kernel_launch import PR_SET_PDEATHSIG
from autograder.host.sandbox import environment, judge_argv
from autograder.host.settings import GiB, SafeGrading

MAX_NOTEBOOK_BYTES = 5 * 1024**2
METADATA = "autograder"  # graded notebook metadata: what grading noticed (``problems``)

KERNEL_EVENTS = {
    "KeyboardInterrupt": "ran over the {cell_timeout} s time limit for one cell and was interrupted; "
                         "the cells after it still ran",
    "CellTimeoutError": "ran over the {cell_timeout} s time limit for one cell and was interrupted; "
                        "the cells after it still ran",
    "MemoryError": "ran out of memory (the limit is {memory_gib:g} GiB)",
    "SystemExit": "called sys.exit(); the kernel kept running",
}


def _prctl():
    """libc's prctl, looked up before any fork, so the child only calls it."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the judge's own time limit still applies
        return None


_PRCTL = _prctl()


def _die_with_parent() -> None:
    """In the judge, before it starts: be killed if the grading process dies (a worker killed mid-task)."""
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def grade_id(cell: dict) -> str | None:
    """The nbgrader grade id of a cell, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def structure_notes(nb: nbformat.NotebookNode, cells: list[dict]) -> list[str]:
    """What the student changed in the notebook's graded structure (nbgrader restores the tests)."""
    ids = [grade_id(c) for c in nb.cells]
    types = {grade_id(c): c.get("cell_type") for c in nb.cells}
    expected = [c["grade_id"] for c in cells]
    notes = []
    missing = [g for g in expected if g not in ids]
    if missing:
        notes.append(f"{len(missing)} grade cell(s) missing from the submission ({', '.join(missing[:4])}"
                     f"{', ...' if len(missing) > 4 else ''})")
    duplicated = sorted({g for g in ids if g and ids.count(g) > 1})
    if duplicated:
        notes.append(f"duplicated cells ({', '.join(duplicated[:4])}): the first copy is graded")
    retyped = [g for g in expected if g in types and types[g] != "code"]
    if retyped:
        notes.append(f"grade cells changed to {types[retyped[0]]} ({', '.join(retyped[:4])})")
    present = list(dict.fromkeys(g for g in ids if g in expected))
    if not missing and present != [g for g in expected if g in present]:
        notes.append("grade cells were moved out of order")
    return notes


def unsafe_entries(folder: Path) -> list[str]:
    """Paths under ``folder`` (relative, sorted) that are links or neither files nor folders."""
    found = []
    for root, dirs, files in os.walk(folder):  # os.walk does not descend into linked folders
        for name in dirs + files:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def too_big(nb: nbformat.NotebookNode) -> str | None:
    """Why ``nb`` is too big to run (its code and text, outputs left out), or None.

    Outputs do not count: nbgrader drops them and running the notebook makes them again.
    """
    bare = nbformat.from_dict({**nb, "cells": [
        {**c, "outputs": []} if c.get("cell_type") == "code" else c for c in nb.cells]})
    size = len(nbformat.writes(bare))
    if size > MAX_NOTEBOOK_BYTES:
        limit = MAX_NOTEBOOK_BYTES >> 20
        return f"the notebook's code and text are {size >> 20} MB, over the {limit} MB limit"
    return None


class Judge:
    """The clean judge process for one submission, started in the sandbox before the kernel runs.

    It loads TensorFlow and the test set while the student's notebook runs (one core is
    usually idle then), and waits for :meth:`verdicts`.  It sees ``evidence`` and ``requests``
    read-only, with the sandbox's limits and environment (:func:`~autograder.host.sandbox.judge_argv`),
    and answers on its standard output; files put in ``requests`` (exercise 10's handed-in run)
    are what it reads as handed in.  :meth:`close` (or garbage collection) ends it if it
    was never asked.
    """

    def __init__(self, settings: SafeGrading, evidence: Path, requests: Path):
        self.settings, self.evidence, self.requests = settings, evidence, requests
        argv = judge_argv(evidence, requests, settings.limits, environment(settings.environment()))
        # A process group of its own, which _stop kills whole: see there.
        self.process = subprocess.Popen(argv, env={}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, process_group=0,
                                        preexec_fn=_die_with_parent if _PRCTL else None)
        self._finalizer = weakref.finalize(self, _stop, self.process)

    def verdicts(self, cells: list[dict]) -> tuple[dict[str, tuple[float, str]], str | None]:
        """The verdicts {grade_id: (points, message)} on the evidence, and why the judge failed (or None).

        ``judge_timeout`` counts from this call: loading before it overlapped the kernel's run.
        """
        cells_file = self.requests / "cells.json"
        cells_file.write_text(json.dumps(cells))
        request = json.dumps({"evidence": str(self.evidence), "cells": str(cells_file),
                              "handed_in": str(self.requests)}) + "\n"
        try:
            stdout, stderr = self.process.communicate(request, timeout=self.settings.judge_timeout)
        except subprocess.TimeoutExpired:
            failure = f"it did not finish within {self.settings.judge_timeout:g} s"
        except OSError as exc:  # it had already died: its stderr says why
            failure = f"it stopped before judging ({exc.strerror or exc})"
        else:
            if self.process.returncode == 0 and stdout:
                return {k: (float(v[0]), v[1]) for k, v in json.loads(stdout).items()}, None
            failure = (stderr.strip().splitlines() or [f"exit status {self.process.returncode}"])[-1]
        finally:
            self.close()
        return {c["grade_id"]: (0.0, "not graded: the judge failed") for c in cells}, failure

    def close(self) -> None:
        """Stop the process if it still runs."""
        self._finalizer()


def _stop(process: subprocess.Popen) -> None:
    """Kill the judge's whole process group, then reap it.

    The group, not the process: bwrap killed just after it started can leave its inner child
    waiting forever for a signal that never comes, with no parent-death signal set yet
    (bubblewrap issue 633); that child is still in the group.
    """
    try:  # even when bwrap has ended: the group lives on while that child does
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the whole group has ended
        pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def kernel_events(nb: nbformat.NotebookNode, settings: SafeGrading) -> list[str]:
    """Notes for cells of the graded notebook that were interrupted, ran out of memory or tried to exit."""
    notes = []
    seen: set[str] = set()
    for ename, text in KERNEL_EVENTS.items():
        hit = [grade_id(c) or f"cell {i + 1}" for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
               and any(o.get("ename") == ename for o in c.get("outputs", []))]
        note = text.format(cell_timeout=settings.cell_limit, memory_gib=settings.limits.memory_bytes / GiB)
        if hit and note not in seen:
            seen.add(note)
            notes.append(f"{', '.join(hit[:3])} " + note)
    return notes


def tampering_note(kernel: dict[str, float], judged: dict[str, float]) -> list[str]:
    """A note when the notebook's own grade cells claimed more than the clean judge confirms."""
    inflated = [g for g, points in kernel.items() if points > judged.get(g, 0.0) + 1e-6]
    if not inflated:
        return []
    claimed = sum(kernel[g] for g in inflated)
    confirmed = sum(judged.get(g, 0.0) for g in inflated)
    return [f"inside the notebook, {', '.join(inflated[:4])}{', ...' if len(inflated) > 4 else ''} "
            f"reported {claimed:g} points, but re-checking the evidence in a clean process gives "
            f"{confirmed:g}: the checks or their output were tampered with, or the evidence is missing"]


def annotate_verdicts(nb: nbformat.NotebookNode, verdicts: dict[str, tuple[float, str]]) -> None:
    """Make each grade cell's outputs the judge's verdict: its message, then its points.

    nbgrader's ``SaveAutoGrades`` reads a code cell's last value as its partial credit, so
    the points recorded are the judge's; the message is what the student's feedback shows.
    """
    for cell in nb.cells:
        verdict = verdicts.get(grade_id(cell))
        if cell.cell_type == "code" and verdict is not None:
            points, message = verdict
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=message + "\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                                   execution_count=cell.get("execution_count"))]
