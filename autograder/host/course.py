"""Runs on the host: an nbgrader course on disk, and nbgrader's own commands run in it.

A course directory holds ``nbgrader_config.py``, ``source/``, ``release/``, ``submitted/``,
``autograded/``, ``feedback/`` and the gradebook, as nbgrader lays it out.  This installation
carries one course's files (:data:`TEMPLATE`: in the wheel, or the checkout it runs from);
``mnist-autograder init`` writes them as a new course (:func:`init_course`).  The demo, the
``grade`` command and the tests make throwaway courses from them (:func:`make_course`), each with
its own gradebook; class grading runs in the real course.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

CHECKOUT = Path(__file__).resolve().parents[2]  # a checkout of the project is itself a course directory
PACKAGED = Path(__file__).resolve().parents[1] / "course_files"  # the wheel's copy of it (setup.py)
TEMPLATE_FILES = ("nbgrader_config.py", "jupyterhub_config.py", "source")  # what the wheel carries
DEFAULT_ASSIGNMENT = "mnist_batch_size"
STUDENT = "student"
COURSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a folder name in nbgrader's exchange


class GradingError(RuntimeError):
    """Grading itself could not happen (as opposed to a submission scoring low)."""


def _template() -> Path:
    """Where this installation's course files are: the wheel's copy, else the checkout it runs from."""
    for place in (PACKAGED, CHECKOUT):
        if (place / "nbgrader_config.py").is_file() and (place / "source").is_dir():
            return place
    return PACKAGED  # removed (`remove-solutions`): commands that need it say so (require_template)


TEMPLATE = _template()


def require_template() -> Path:
    """:data:`TEMPLATE`, or GradingError saying how to get it back when its source notebooks are gone."""
    if not (TEMPLATE / "source").is_dir():
        raise GradingError(f"this installation no longer carries the course's source notebooks ({TEMPLATE}; "
                           "removed by `mnist-autograder remove-solutions`): reinstall the package "
                           "where only instructors can read it, or work in an existing course (--course)")
    return TEMPLATE


def init_course(course: Path, course_id: str | None = None) -> Path:
    """Write a new course directory at ``course``: the course's nbgrader_config.py and source/.

    Refuses (GradingError) a folder that already holds a course's config, sources or gradebook,
    so nothing of an existing course is overwritten.  ``course_id`` replaces the template's.
    """
    template = require_template()
    course = Path(course).resolve()
    taken = [name for name in ("nbgrader_config.py", "source", "gradebook.db") if (course / name).exists()]
    if taken or course.is_file():
        raise GradingError(f"{course} already holds a course ({', '.join(taken) or 'a file'}): nothing "
                           "was written; choose a new folder, or work in that course as it is")
    config = (template / "nbgrader_config.py").read_text()
    if course_id is not None:
        if not COURSE_ID.fullmatch(course_id):
            raise GradingError(f"course id {course_id!r} is not usable as a folder name in nbgrader's "
                               "exchange: use letters, digits, '-', '_' or '.' (at most 64)")
        line = re.compile(r'^c\.CourseDirectory\.course_id = ".*"$', re.MULTILINE)
        config, found = line.subn(f"c.CourseDirectory.course_id = {course_id!r}", config)
        if found != 1:
            raise GradingError(f"{template / 'nbgrader_config.py'} sets no course_id to replace")
    course.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "source", course / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (course / "nbgrader_config.py").write_text(config)  # last: a course cut short is refused, not half-made
    return course


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's bin/ first on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course``; raises GradingError with nbgrader's last words."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line]
        raise GradingError(f"nbgrader {args[0]} failed: {(tail or proc.stderr.splitlines() or ['?'])[-1]}")
    return proc


def own_config(config: str, db_url: str | None = None) -> str:
    """``config`` (a course's nbgrader_config.py) pinned to the folder it is written to.

    Whatever root or gradebook the original names, the copy's root is its own folder and its
    gradebook ``db_url``, by default SQLite in that folder.
    """
    url = repr(db_url) if db_url else '"sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")'
    return (f"{config.rstrip()}\n\n# Made by autograder.host.course.make_course: it keeps to itself.\n"
            "import os\n"
            "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))\n"
            f"c.CourseDirectory.db_url = {url}\n")


def make_course(course: Path, assignment: str = DEFAULT_ASSIGNMENT, source_root: Path | None = None,
                db_url: str | None = None) -> None:
    """A new course directory with ``source_root``'s config and ``assignment`` generated.

    ``source_root`` is a course directory, by default this installation's (:data:`TEMPLATE`).
    Its root is its own folder and its gradebook ``db_url``, by default SQLite in the new course
    (wherever it is copied to), never the ones the copied config (or ``NBGRADER_DB_URL``) names:
    it writes only to itself.
    """
    source_root = source_root or require_template()
    course.mkdir(parents=True, exist_ok=True)
    config = (source_root / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(own_config(config, db_url))
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
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for bad files
        raise GradingError(f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from exc


def notebook_names(course: Path, assignment: str) -> list[str]:
    """The assignment's notebook names (without .ipynb) as in source/, sorted."""
    found = sorted((course / "source" / assignment).glob("*.ipynb"))
    if not found:
        raise GradingError(f"assignment {assignment!r} has no notebook in {course / 'source'}")
    return [path.stem for path in found]


def notebook_name(course: Path, assignment: str) -> str:
    """The name of a one-notebook assignment's notebook (the first, if there are several)."""
    return notebook_names(course, assignment)[0]


def submit(course: Path, assignment: str, student: str, notebook_path: Path) -> Path:
    """Place a notebook as ``student``'s submission under submitted/, named as nbgrader expects."""
    target = course / "submitted" / student / assignment / f"{notebook_name(course, assignment)}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook_path, target)
    return target


def submissions(course: Path, assignment: str) -> dict[str, Path]:
    """student id -> their collected submission folder for ``assignment``."""
    root = course / "submitted"
    return {p.parent.name: p for p in sorted(root.glob(f"*/{assignment}")) if p.is_dir()}


def trusted_grade_cells(db_url: str, assignment: str, notebook: str) -> list[dict]:
    """The autograded grade cells' trusted source (the gradebook's copy of source/), in order."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        return [{"grade_id": c.name, "max_points": c.max_score,
                 "source": gb.find_source_cell(c.name, notebook, assignment).source}
                for c in nb.grade_cells if c.cell_type == "code"]


def scores_from_gradebook(db_url: str, assignment: str, notebook: str,
                          student: str = STUDENT) -> list[tuple[str, float, float]]:
    """(grade_id, points, max_points) for each autograded (code) grade cell, in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        order = {c.name: i for i, c in enumerate(gb.find_notebook(notebook, assignment).grade_cells)}
        submitted = gb.find_submission_notebook(notebook, assignment, student)
        rows = [(g.name, float(g.score or 0.0), float(g.max_score)) for g in submitted.grades
                if g.cell_type == "code"]
    return sorted(rows, key=lambda row: order.get(row[0], 0))
