"""Grade one notebook through nbgrader's real pipeline, in a throwaway course directory.

The throwaway course gets this course's nbgrader_config.py and source/ assignment, nbgrader
generates the assignment (so the gradebook knows every grade cell and its checksum), the
notebook goes in as a submission, and ``nbgrader autograde`` runs it.  Scores come from the
gradebook; each grade cell's message comes from its output in the autograded notebook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from autograder.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ASSIGNMENT = "mnist_batch_size"
STUDENT = "student"


class GradingError(RuntimeError):
    """Grading itself could not happen (as opposed to a submission scoring low)."""


@dataclass
class CellGrade:
    grade_id: str
    points: float
    max_points: float
    message: str


@dataclass
class GradeReport:
    score: float
    max_score: float
    cells: list[CellGrade] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's bin/ first on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("NBGRADER_DB_URL", None)  # a throwaway course always uses its own SQLite gradebook
    return env


def run_nbgrader(course: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course``; raises GradingError with nbgrader's last words."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(),
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line]
        raise GradingError(f"nbgrader {args[0]} failed: {(tail or proc.stderr.splitlines() or ['?'])[-1]}")
    return proc


def make_course(course: Path, assignment: str = DEFAULT_ASSIGNMENT, source_root: Path = ROOT) -> None:
    """A new course directory with this course's config and ``assignment`` generated."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source_root / "nbgrader_config.py", course / "nbgrader_config.py")
    src = source_root / "source" / assignment
    if not src.is_dir():
        raise GradingError(f"no assignment {assignment!r} in {source_root / 'source'}")
    shutil.copytree(src, course / "source" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    run_nbgrader(course, "generate_assignment", assignment, "--force")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a submission, turning every way it can be unreadable into a GradingError."""
    if not path.is_file():
        raise GradingError(f"{path}: no such notebook file")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for bad files
        raise GradingError(f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from exc
    return nb


def cell_messages(autograded: Path) -> dict[str, str]:
    """grade_id -> the text a grade cell printed (its verdict) or its error, from the autograded notebook."""
    messages: dict[str, str] = {}
    nb = nbformat.read(autograded, as_version=4)
    for cell in nb.cells:
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


def scores_from_gradebook(course: Path, assignment: str, notebook: str,
                          student: str = STUDENT) -> list[tuple[str, float, float]]:
    """(grade_id, points, max_points) for each autograded (code) grade cell, in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        order = {c.name: i for i, c in enumerate(gb.find_notebook(notebook, assignment).grade_cells)}
        submitted = gb.find_submission_notebook(notebook, assignment, student)
        rows = [(g.name, float(g.score or 0.0), float(g.max_score)) for g in submitted.grades
                if g.cell_type == "code"]
    return sorted(rows, key=lambda row: order.get(row[0], 0))


def notebook_name(course: Path, assignment: str) -> str:
    """The assignment's notebook name (without .ipynb) as in source/."""
    found = sorted((course / "source" / assignment).glob("*.ipynb"))
    if not found:
        raise GradingError(f"assignment {assignment!r} has no notebook in {course / 'source'}")
    return found[0].stem


def collect_report(course: Path, assignment: str, student: str = STUDENT) -> GradeReport:
    """The autograded cells of one student's graded submission, with scores and messages."""
    notebook = notebook_name(course, assignment)
    autograded = course / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not autograded.is_file():
        raise GradingError(f"nbgrader autograde produced no graded notebook for {student}")
    messages = cell_messages(autograded)
    cells = [CellGrade(gid, pts, mx, messages.get(gid, "cell missing from the submission"))
             for gid, pts, mx in scores_from_gradebook(course, assignment, notebook, student)]
    return GradeReport(sum(c.points for c in cells), sum(c.max_points for c in cells), cells)


def submit(course: Path, assignment: str, student: str, notebook_path: Path) -> Path:
    """Place a notebook as ``student``'s submission under submitted/, named as nbgrader expects."""
    target = course / "submitted" / student / assignment / f"{notebook_name(course, assignment)}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook_path, target)
    return target


def grade_notebook(path: Path, assignment: str = DEFAULT_ASSIGNMENT, timeout: float = 300,
                   limits: Limits | None = None) -> GradeReport:
    """Autograde one notebook safely (sandbox, limits, clean judge) in a throwaway course.

    Raises GradingError only when grading itself cannot happen (no such file, not a notebook).
    """
    from autograder.isolated import grade_in_scratch

    path = Path(path).resolve()
    read_notebook(path)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        template = Path(tmp) / "template"
        make_course(template, assignment)
        submitted = Path(tmp) / "submitted"
        submitted.mkdir()
        shutil.copyfile(path, submitted / path.name)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        outcome = grade_in_scratch(template, assignment, STUDENT, submitted, scratch, timeout,
                                   limits or Limits())
    return outcome.report
