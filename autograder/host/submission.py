"""Runs on the host: grade one submission safely, in four steps: prepare, kernel, judge, report.

Everything happens in a scratch copy of the course (config, gradebook, assignment), so
nothing the submission does can reach the real course; the caller copies results back.
Every way a submission can break (unreadable file, missing or renamed notebook, a kernel that
dies or hangs, a judge that fails) ends in an outcome with a reason, never in an exception
that stops a class.

1. :func:`prepare`: find the notebook, read it once, note structural changes, strip outputs.
2. :func:`run_kernel`: ``nbgrader autograde`` with the sandboxed kernel; it writes evidence.
3. :func:`run_judge`: the clean judge scores the evidence with the gradebook's trusted cells.
4. :func:`report`: the judge's scores, with what happened, into the graded notebook.
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

from autograder.evidence.records import ENV_DIR
from autograder.host.course import grade_cells, nbgrader_env, notebook_name, scores_from_gradebook
from autograder.host.report import CellGrade, GradeReport, Outcome
from autograder.host.sandbox import write_kernel_spec
from autograder.host.settings import GiB, SafeGrading

MAX_NOTEBOOK_BYTES = 5 * 1024**2

KERNEL_EVENTS = {
    "KeyboardInterrupt": "ran over the {cell_timeout} s time limit for one cell and was interrupted; "
                         "the cells after it still ran",
    "MemoryError": "ran out of memory (the limit is {memory_gib:g} GiB)",
    "SystemExit": "called sys.exit(); the kernel kept running",
}


@dataclass
class Prepared:
    """A submission placed in the scratch course, or the reason it cannot be graded."""

    course: Path
    notebook: str
    cells: list[dict]
    problems: list[str] = field(default_factory=list)
    gradable: bool = True


@dataclass
class KernelRun:
    """How ``nbgrader autograde`` with the sandboxed kernel ended, and where its output is."""

    graded_notebook: Path
    evidence: Path
    finished: bool
    problems: list[str] = field(default_factory=list)


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


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


def structure_notes(nb: nbformat.NotebookNode, cells: list[dict]) -> list[str]:
    """What the student changed in the notebook's graded structure (nbgrader restores the tests)."""
    ids = [_grade_id(c) for c in nb.cells]
    types = {_grade_id(c): c.get("cell_type") for c in nb.cells}
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


def clean_for_grading(nb: nbformat.NotebookNode) -> str | None:
    """Drop outputs and duplicate grade cells from ``nb`` in place; the reason it is too big, or None.

    Outputs are re-made by running the notebook, so huge or fake outputs in the file go.
    """
    seen: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        grade_id = _grade_id(cell)
        if grade_id in seen:  # a copy of a graded cell: keep it as ordinary code, not a second test
            del cell["metadata"]["nbgrader"]
        elif grade_id:
            seen.add(grade_id)
    size = len(nbformat.writes(nb))
    if size > MAX_NOTEBOOK_BYTES:
        limit = MAX_NOTEBOOK_BYTES >> 20
        return f"the notebook's code and text are {size >> 20} MB, over the {limit} MB limit"
    return None


def prepare(template: Path, assignment: str, student: str, submitted: Path, scratch: Path) -> Prepared:
    """Copy the course to ``scratch`` and place the cleaned submission in its submitted/ folder."""
    course = scratch / "course"
    shutil.copytree(template, course, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback"))
    notebook = notebook_name(course, assignment)
    prepared = Prepared(course, notebook, grade_cells(course, assignment, notebook))
    found, note = find_submitted_notebook(submitted, notebook)
    if note:
        prepared.problems.append(note)
    if found is None:
        prepared.gradable = False
        return prepared
    try:
        nb = nbformat.read(found, as_version=4)  # older nbformat versions are converted
    except Exception as exc:  # invalid JSON, empty file, wrong structure
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        prepared.problems.append(f"not a readable Jupyter notebook ({first})")
        prepared.gradable = False
        return prepared
    notes = structure_notes(nb, prepared.cells)
    too_big = clean_for_grading(nb)
    if too_big:
        prepared.problems.append(too_big)
        prepared.gradable = False
        return prepared
    prepared.problems += notes
    target = course / "submitted" / student / assignment
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{notebook}.ipynb")
    return prepared


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


def run_kernel(prepared: Prepared, assignment: str, student: str, scratch: Path,
               settings: SafeGrading) -> KernelRun:
    """``nbgrader autograde`` in the scratch course, with the student's kernel in the sandbox."""
    course = prepared.course
    workdir = course / "autograded" / student / assignment
    evidence, runtime, jupyter = scratch / "evidence", scratch / "runtime", scratch / "jupyter"
    for folder in (evidence, runtime, jupyter):
        folder.mkdir()
    kernel = write_kernel_spec(jupyter, workdir, evidence, runtime, settings.limits, settings.environment())
    env = {**nbgrader_env(), **settings.environment(), "JUPYTER_PATH": str(jupyter),
           "JUPYTER_RUNTIME_DIR": str(runtime), ENV_DIR: str(evidence)}
    code, err = _run_limited(
        [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--force",
         f"--Execute.kernel_name={kernel}", f"--Execute.timeout={settings.cell_limit}",
         "--Execute.interrupt_on_timeout=True", "--Execute.raise_on_iopub_timeout=False"],
        course, env, settings.timeout)
    run = KernelRun(workdir / f"{prepared.notebook}.ipynb", evidence, finished=code == 0)
    if code is None:
        run.problems.append(f"stopped after the {settings.timeout:g} s time limit (a cell hangs or runs "
                            "too long); graded what ran before")
    elif code != 0 or not run.graded_notebook.is_file():
        died = "died" in err.lower() or "dead" in err.lower()
        run.problems.append("the kernel died (the notebook exited or crashed it); graded what ran "
                            "before" if died else "nbgrader could not finish executing the notebook; "
                            "graded what ran before")
    run.finished = run.finished and run.graded_notebook.is_file()
    return run


def run_judge(evidence: Path, cells: list[dict], scratch: Path,
              settings: SafeGrading) -> tuple[dict[str, tuple[float, str]], str | None]:
    """The clean judge's verdicts {grade_id: (points, message)}, and why it failed (or None)."""
    cells_file = scratch / "cells.json"
    cells_file.write_text(json.dumps(cells))
    env = {k: v for k, v in {**nbgrader_env(), **settings.environment()}.items() if k != ENV_DIR}
    try:
        proc = subprocess.run([sys.executable, "-m", "autograder.judge", str(evidence), str(cells_file)],
                              env=env, capture_output=True, text=True, timeout=settings.judge_timeout)
    except subprocess.TimeoutExpired:
        failure = f"it did not finish within {settings.judge_timeout:g} s"
    else:
        if proc.returncode == 0:
            return {k: (float(v[0]), v[1]) for k, v in json.loads(proc.stdout).items()}, None
        failure = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return {c["grade_id"]: (0.0, "not graded: the judge failed") for c in cells}, failure


def kernel_events(nb: nbformat.NotebookNode, settings: SafeGrading) -> list[str]:
    """Notes for cells of the graded notebook that were interrupted, ran out of memory or tried to exit."""
    notes = []
    for ename, text in KERNEL_EVENTS.items():
        hit = [_grade_id(c) or f"cell {i + 1}" for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
               and any(o.get("ename") == ename for o in c.get("outputs", []))]
        if hit:
            notes.append(f"{', '.join(hit[:3])} " + text.format(
                cell_timeout=settings.cell_limit, memory_gib=settings.limits.memory_bytes / GiB))
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


def annotate(nb: nbformat.NotebookNode, cells: list[CellGrade]) -> None:
    """Put the judge's verdicts in the graded notebook's grade cells, for the feedback."""
    verdicts = {c.grade_id: c for c in cells}
    for cell in nb.cells:
        grade = verdicts.get(_grade_id(cell))
        if cell.cell_type == "code" and grade is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=grade.message + "\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": repr(grade.points)},
                                                   execution_count=cell.get("execution_count"))]


def ungraded(prepared: Prepared) -> GradeReport:
    """Zero in every cell, each saying why the submission could not be graded."""
    reason = "not graded: " + "; ".join(prepared.problems)
    return GradeReport(0.0, sum(c["max_points"] for c in prepared.cells),
                       [CellGrade(c["grade_id"], 0.0, c["max_points"], reason) for c in prepared.cells])


def report(outcome: Outcome, prepared: Prepared, assignment: str, kernel: KernelRun,
           results: dict[str, tuple[float, str]], judge_failure: str | None, settings: SafeGrading) -> None:
    """Fill ``outcome`` with the judge's scores and what happened; annotate the graded notebook."""
    outcome.problems += kernel.problems
    nb = nbformat.read(kernel.graded_notebook, as_version=4) if kernel.graded_notebook.is_file() else None
    if nb is not None:
        outcome.problems += kernel_events(nb, settings)
    if judge_failure is not None:
        outcome.problems.append(f"the judge could not check the evidence: {judge_failure}")
    if kernel.finished:
        claimed = scores_from_gradebook(prepared.course, assignment, prepared.notebook, outcome.student)
        outcome.problems += tampering_note({gid: pts for gid, pts, _ in claimed},
                                           {g: p for g, (p, _) in results.items()})
    prefix = ("; ".join(outcome.problems) + "\n") if outcome.problems else ""
    cells = [CellGrade(c["grade_id"], results[c["grade_id"]][0], c["max_points"],
                       prefix + results[c["grade_id"]][1]) for c in prepared.cells]
    outcome.report = GradeReport(sum(c.points for c in cells), sum(c["max_points"] for c in prepared.cells),
                                 cells)
    if nb is not None:
        annotate(nb, cells)
        nbformat.write(nb, kernel.graded_notebook)
        outcome.autograded_dir = kernel.graded_notebook.parent


def grade_submission(template: Path, assignment: str, student: str, submitted: Path, scratch: Path,
                     settings: SafeGrading) -> Outcome:
    """Autograde ``submitted`` (a student's submission folder) in a copy of ``template``."""
    started = time.perf_counter()
    outcome = Outcome(student)
    prepared = prepare(template, assignment, student, submitted, scratch)
    outcome.problems += prepared.problems
    if not prepared.gradable:
        outcome.report = ungraded(prepared)
    else:
        kernel = run_kernel(prepared, assignment, student, scratch, settings)
        results, failure = run_judge(kernel.evidence, prepared.cells, scratch, settings)
        report(outcome, prepared, assignment, kernel, results, failure, settings)
    outcome.seconds = time.perf_counter() - started
    return outcome
