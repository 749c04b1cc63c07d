"""Safe grading writes the gradebook nbgrader's stock autograde writes, row by row, in SQLite and PostgreSQL.

One honest submission (the solution with its training cells left undone, so it runs in
seconds and scores partly), handed in by two students: one on time, one two days late with a
one-day extension, under a late policy that takes the whole score.  Stock ``nbgrader
autograde`` (nbgrader's own preprocessors, no sandbox, no judge) grades it into SQLite; safe
grading (``grade_all``, two nbgrader processes at once) grades it into SQLite and into a real
PostgreSQL server the tests start.  Every row the gradebook holds about the submissions must
be the same (scores, needs_manual_grade, comments, timestamps, extensions, late penalties),
with no row lost or doubled, and ``nbgrader export`` must give the same CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import sqlalchemy

from autograder.host.course import run_nbgrader
from autograder.tools.samples import cell_sources, replace_cells
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, grading_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

DUE = dt.datetime(2026, 11, 20, 12, 0, 0)
STUDENTS = {"on_time": (DUE - dt.timedelta(hours=1), None),
            "late": (DUE + dt.timedelta(days=2), dt.timedelta(days=1))}
STOCK_PIPELINE = """
# The stock pipeline: nbgrader's own preprocessors (the student's kernel unprotected).
from nbgrader.converters import Autograde as _Autograde
c.Autograde.sanitize_preprocessors = _Autograde.class_traits()["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
"""
TABLES = ["student", "submitted_assignment", "submitted_notebook", "grade", "comment"]


def honest_partial_work(out: Path) -> Path:
    """The solution with every cell that trains a model left as the release's stub."""
    release = cell_sources(RELEASE_NOTEBOOK)
    training = {gid: release[gid] for gid, src in cell_sources(SOURCE_NOTEBOOK).items()
                if "train_model(" in src and src != release[gid]}
    assert training, "no training cells found in the source notebook"
    return replace_cells(SOURCE_NOTEBOOK, training, out)


def class_course(root: Path, name: str, db_url: str | None, notebook: Path, extra_config: str = "") -> Path:
    """A course with the assignment due at DUE, a late policy, and both students' submissions."""
    from nbgrader.api import Gradebook

    from autograder.host.course import make_course, submit
    from autograder.host.settings import db_url as configured_url

    course = root / name
    make_course(course, ASSIGNMENT, db_url=db_url)
    with (course / "nbgrader_config.py").open("a") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n' + extra_config)
    with Gradebook(configured_url(course)) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
        for student, (when, extension) in STUDENTS.items():
            submitted = submit(course, ASSIGNMENT, student, notebook)
            (submitted.parent / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
            if extension is not None:
                gb.update_or_create_student(student)
                gb.update_or_create_submission(ASSIGNMENT, student, extension=extension)
    return course


def gradebook_rows(url: str) -> dict[tuple, tuple]:
    """Every gradebook row about the submissions, keyed by what it is about (no database ids)."""
    from nbgrader.api import Gradebook

    rows: dict[tuple, tuple] = {}
    with Gradebook(url) as gb:
        for table in TABLES:
            count = gb.db.execute(sqlalchemy.text(f"SELECT count(*) FROM {table}")).scalar()
            rows[("count", table)] = (count,)
        for sub in gb.find_assignment(ASSIGNMENT).submissions:
            rows[("submission", sub.student_id)] = (
                sub.timestamp, sub.extension, sub.total_seconds_late, sub.late_submission_penalty, sub.score,
                sub.needs_manual_grade)
            for nb in sub.notebooks:
                rows[("notebook", sub.student_id, nb.name)] = (nb.late_submission_penalty, nb.flagged)
                for g in nb.grades:
                    rows[("grade", sub.student_id, g.name)] = (g.auto_score, g.manual_score, g.extra_credit,
                                                               g.needs_manual_grade, g.max_score)
                for c in nb.comments:
                    rows[("comment", sub.student_id, c.name)] = (c.auto_comment, c.manual_comment)
    return rows


def exported(course: Path) -> list[dict]:
    """``nbgrader export``'s CSV for the course, sorted by student."""
    run_nbgrader(course, "export", "--to", "grades.csv")
    rows = csv.DictReader(io.StringIO((course / "grades.csv").read_text()))
    return sorted(rows, key=lambda r: r["student_id"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory, postgres_server) -> dict[str, tuple[Path, str]]:
    """The class graded three ways: stock nbgrader into SQLite, safe into SQLite and PostgreSQL."""
    from autograder.host.classroom import grade_all
    from autograder.host.settings import db_url

    root = tmp_path_factory.mktemp("parity")
    notebook = honest_partial_work(root / "honest_partial.ipynb")
    stock = class_course(root, "stock", None, notebook, STOCK_PIPELINE)
    run_nbgrader(stock, "autograde", ASSIGNMENT, "--force")
    courses = {"stock": stock,
               "safe_sqlite": class_course(root, "safe_sqlite", None, notebook),
               "safe_postgres": class_course(root, "safe_postgres", postgres_server.create_database("parity"),
                                             notebook)}
    for name in ("safe_sqlite", "safe_postgres"):
        settings = grading_settings(courses[name], workers=2)
        summary = grade_all(courses[name], ASSIGNMENT, settings, progress=False)
        print("\n".join(summary.lines()))
    return {name: (course, db_url(course)) for name, course in courses.items()}


@pytest.mark.parametrize("safe", ["safe_sqlite", "safe_postgres"])
def test_safe_grading_leaves_the_rows_stock_nbgrader_leaves(graded, safe):
    stock = gradebook_rows(graded["stock"][1])
    rows = gradebook_rows(graded[safe][1])
    assert rows.keys() == stock.keys()
    differ = {k: (rows[k], stock[k]) for k in stock if rows[k] != stock[k]}
    assert differ == {}


def test_the_honest_work_scored_partly_and_the_late_one_lost_its_score(graded):
    rows = gradebook_rows(graded["stock"][1])
    on_time, late = rows[("submission", "on_time")], rows[("submission", "late")]
    assert 0 < on_time[4] < 27 and on_time[3] == 0
    assert late[1] == dt.timedelta(days=1) and late[2] == 24 * 3600  # late by one day after the extension
    assert late[3] == late[4] > 0  # "zero" policy: the penalty is the whole score


def test_only_the_written_answers_wait_for_hand_grading(graded):
    from nbgrader.api import Gradebook

    with Gradebook(graded["safe_postgres"][1]) as gb:
        for sub in gb.find_assignment(ASSIGNMENT).submissions:
            flagged = sorted(g.name for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade)
            written = sorted(g.name for nb in sub.notebooks for g in nb.grades if g.cell_type == "markdown")
            assert flagged == written and len(written) == 2


def test_two_graders_at_once_lose_or_double_no_row(graded):
    """grade_all ran two nbgrader processes at once into each database: one row per thing, none lost."""
    for name in ("safe_sqlite", "safe_postgres"):
        rows = gradebook_rows(graded[name][1])
        grades = sum(1 for k in rows if k[0] == "grade")
        assert rows[("count", "grade")] == (grades,) and grades == 2 * 18
        assert rows[("count", "submitted_assignment")] == (2,)
        assert rows[("count", "student")] == (2,)


def test_postgres_and_sqlite_export_the_same_grades(graded):
    assert exported(graded["safe_postgres"][0]) == exported(graded["safe_sqlite"][0])
