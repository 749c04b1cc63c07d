"""Grade one submission safely: sandboxed kernel, time and memory limits, a clean judge.

Runs in a scratch copy of the course (config, gradebook, assignment), so nothing the
submission does can reach the real course; the caller copies results back.  Every way a
submission can break (unreadable file, missing or renamed notebook, a kernel that dies or
hangs) ends in an outcome with a reason, never in an exception that stops a class.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.pipeline import CellGrade, GradeReport, nbgrader_env, notebook_name, scores_from_gradebook
from autograder.sandbox import Limits, write_kernel_spec

JUDGE_TIMEOUT = 180
MAX_NOTEBOOK_BYTES = 5 * 1024**2


@dataclass
class Outcome:
    """What grading one submission produced: scores per cell and what happened."""

    student: str
    report: GradeReport | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    autograded_dir: Path | None = None

    @property
    def graded(self) -> bool:
        return self.report is not None


def grade_cells(course: Path, assignment: str, notebook: str) -> list[dict]:
    """The autograded grade cells' trusted source (from the gradebook), in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_notebook(notebook, assignment)
        return [{"grade_id": c.name, "max_points": c.max_score,
                 "source": gb.find_source_cell(c.name, notebook, assignment).source}
                for c in nb.grade_cells if c.cell_type == "code"]


def find_submitted_notebook(folder: Path, expected: str) -> tuple[Path | None, str | None]:
    """The submitted notebook and a note if it had to be guessed (renamed); None if there is none."""
    exact = folder / f"{expected}.ipynb"
    if exact.is_file():
        return exact, None
    others = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if len(others) == 1:
        return others[0], f"the notebook was renamed to {others[0].name}; graded it as {expected}.ipynb"
    if others:
        return None, f"no {expected}.ipynb, and {len(others)} other notebooks: cannot tell which to grade"
    return None, f"no notebook submitted (expected {expected}.ipynb)"


def structure_notes(path: Path, cells: list[dict]) -> list[str]:
    """What the student changed in the notebook's graded structure (nbgrader restores the tests)."""
    nb = nbformat.read(path, as_version=4)
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    types = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c.get("cell_type") for c in nb.cells}
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


KERNEL_EVENTS = {
    "KeyboardInterrupt": "ran over the {cell_timeout} s time limit for one cell and was interrupted; "
                         "the cells after it still ran",
    "MemoryError": "ran out of memory (the limit is {memory_gib:g} GiB)",
    "SystemExit": "called sys.exit(); the kernel kept running",
}


def kernel_events(autograded: Path, cell_timeout: int, limits: Limits) -> list[str]:
    """Notes for cells that were interrupted, ran out of memory or tried to exit."""
    nb = nbformat.read(autograded, as_version=4)
    notes = []
    for ename, text in KERNEL_EVENTS.items():
        hit = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {i + 1}")
               for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
               and any(o.get("ename") == ename for o in c.get("outputs", []))]
        if hit:
            notes.append(f"{', '.join(hit[:3])} " + text.format(
                cell_timeout=cell_timeout, memory_gib=limits.memory_bytes / 1024**3))
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


def prepare_notebook(path: Path, destination: Path) -> str | None:
    """Write ``path`` to ``destination`` as an nbformat-4 notebook without outputs.

    Outputs are re-made by running the notebook, so huge or fake outputs in the file are
    dropped; older nbformat versions are converted.  Returns why the file cannot be graded,
    or None.
    """
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # invalid JSON, empty file, wrong structure
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return f"not a readable Jupyter notebook ({first})"
    seen: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in seen:  # a copy of a graded cell: keep it as ordinary code, not a second test
            del cell["metadata"]["nbgrader"]
        elif grade_id:
            seen.add(grade_id)
    text = nbformat.writes(nb)
    if len(text) > MAX_NOTEBOOK_BYTES:
        limit = MAX_NOTEBOOK_BYTES >> 20
        return f"the notebook's code and text are {len(text) >> 20} MB, over the {limit} MB limit"
    destination.write_text(text)
    return None


def _run_limited(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run a command in its own session; on timeout kill the whole group. (returncode or None, stderr)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, err


def _annotate(autograded: Path, results: dict[str, tuple[float, str]]) -> None:
    """Put the judge's verdicts in the graded notebook's grade cells, for the feedback."""
    nb = nbformat.read(autograded, as_version=4)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and gid in results:
            points, message = results[gid]
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=message + "\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                                   execution_count=cell.get("execution_count"))]
    nbformat.write(nb, autograded)


def grade_in_scratch(template: Path, assignment: str, student: str, submitted: Path, scratch: Path,
                     timeout: float, limits: Limits) -> Outcome:
    """Autograde ``submitted`` (a student's submission folder) in a copy of ``template``."""
    started = time.perf_counter()
    outcome = Outcome(student)
    course = scratch / "course"
    shutil.copytree(template, course, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback"))
    notebook = notebook_name(course, assignment)
    found, note = find_submitted_notebook(submitted, notebook)
    if note:
        outcome.problems.append(note)
    cells = grade_cells(course, assignment, notebook)
    target = course / "submitted" / student / assignment
    target.mkdir(parents=True)
    problem = prepare_notebook(found, target / f"{notebook}.ipynb") if found is not None else None
    if problem is None and found is not None:
        outcome.problems += structure_notes(found, cells)
    if found is None or problem is not None:
        if problem is not None:
            outcome.problems.append(problem)
        outcome.report = GradeReport(0.0, sum(c["max_points"] for c in cells), [
            CellGrade(c["grade_id"], 0.0, c["max_points"], "not graded: " + "; ".join(outcome.problems))
            for c in cells])
        outcome.seconds = time.perf_counter() - started
        return outcome

    workdir = course / "autograded" / student / assignment
    evidence, runtime, jupyter = scratch / "evidence", scratch / "runtime", scratch / "jupyter"
    for folder in (evidence, runtime, jupyter):
        folder.mkdir()
    kernel = write_kernel_spec(jupyter, workdir, evidence, runtime, limits)
    env = {**nbgrader_env(), "JUPYTER_PATH": str(jupyter), "JUPYTER_RUNTIME_DIR": str(runtime),
           "AUTOGRADER_EVIDENCE_DIR": str(evidence)}
    cell_timeout = max(10, int(timeout * 0.5))
    code, err = _run_limited(
        [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--force",
         f"--Execute.kernel_name={kernel}", f"--Execute.timeout={cell_timeout}",
         "--Execute.interrupt_on_timeout=True", "--Execute.raise_on_iopub_timeout=False"],
        course, env, timeout)
    if code is None:
        outcome.problems.append(f"stopped after the {timeout:g} s time limit (a cell hangs or runs too "
                                "long); graded what ran before")
    elif code != 0 or not (workdir / f"{notebook}.ipynb").is_file():
        died = "died" in err.lower() or "dead" in err.lower()
        outcome.problems.append("the kernel died (the notebook exited or crashed it); graded what ran "
                                "before" if died else "nbgrader could not finish executing the notebook; "
                                "graded what ran before")

    if (workdir / f"{notebook}.ipynb").is_file():
        outcome.problems += kernel_events(workdir / f"{notebook}.ipynb", cell_timeout, limits)
    cells_file = scratch / "cells.json"
    cells_file.write_text(json.dumps(cells))
    judge_env = {k: v for k, v in nbgrader_env().items() if k != "AUTOGRADER_EVIDENCE_DIR"}
    try:
        proc = subprocess.run([sys.executable, "-m", "autograder.judge", str(evidence), str(cells_file)],
                              env=judge_env, capture_output=True, text=True, timeout=JUDGE_TIMEOUT)
        failure = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]
    except subprocess.TimeoutExpired:
        failure = f"it did not finish within {JUDGE_TIMEOUT} s"
    if failure is not None:
        outcome.problems.append(f"the judge could not check the evidence: {failure}")
        results = {c["grade_id"]: (0.0, "not graded: the judge failed") for c in cells}
    else:
        results = {k: (float(v[0]), v[1]) for k, v in json.loads(proc.stdout).items()}
    if code == 0 and (workdir / f"{notebook}.ipynb").is_file():
        claimed = scores_from_gradebook(course, assignment, notebook, student)
        outcome.problems += tampering_note({gid: pts for gid, pts, _ in claimed},
                                           {g: p for g, (p, _) in results.items()})
    prefix = ("; ".join(outcome.problems) + "\n") if outcome.problems else ""
    outcome.report = GradeReport(
        sum(p for p, _ in results.values()), sum(c["max_points"] for c in cells),
        [CellGrade(c["grade_id"], results[c["grade_id"]][0], c["max_points"],
                   prefix + results[c["grade_id"]][1]) for c in cells])
    if (workdir / f"{notebook}.ipynb").is_file():
        verdicts = {c.grade_id: (c.points, c.message) for c in outcome.report.cells}
        _annotate(workdir / f"{notebook}.ipynb", verdicts)
        outcome.autograded_dir = workdir
    outcome.seconds = time.perf_counter() - started
    return outcome
