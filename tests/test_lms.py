"""Rosters in (plain and Canvas CSV into the gradebook), grades out (Canvas's and Moodle's import files).

The gradebooks here are made with nbgrader's API directly (assignments, notebooks, grade cells,
submissions with scores): no notebook runs.  One slow test does it all with nbgrader's own
commands in a course made by ``make_course``.
"""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.host.lms_export import CanvasExport, MoodleExport
from autograder.host.roster import RosterError, account_names, import_roster, read_roster

# Canvas's gradebook export (Grades > Export) as it comes: a byte-order mark, assignment columns
# "Name (id)", the read-only score columns, a "Manual Posting" row, the "Points Possible" row
# (with Canvas's leading spaces) and Canvas's Test Student.
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Lab 1 (48213),mnist_batch_size (48217),"
    "Assignments Current Score,Assignments Unposted Current Score,Current Score,Unposted Current Score,"
    "Final Score,Unposted Final Score\n"
    ",,,,,Manual Posting,,,,,,,\n"
    "    Points Possible,,,,,10.00,33.00,(read only),(read only),(read only),(read only),(read only),"
    "(read only)\n"
    '"Lovelace, Ada",1001,U0001,ada,MNIST 101 Section 1,9.00,,90.00,90.00,90.00,90.00,45.00,45.00\n'
    '"Hopper, Grace",1002,U0002,grace,MNIST 101 Section 1,7.50,,75.00,75.00,75.00,75.00,37.50,37.50\n'
    '"Turing, Alan",1003,U0003,alan,MNIST 101 Section 2,,,,,,,,\n'
    '"Student, Test",1099,,,MNIST 101 Section 1,,,,,,,,\n'
)
PLAIN = "id,first_name,last_name,email\nada,Ada,Lovelace,ada@uni.example\nzed,Zed,Shaw,zed@uni.example\n"
ASSIGNMENTS = {"mnist_batch_size": {"a": 20.0, "b": 13.0}, "mnist_hyperparameters": {"c": 40.0}}
EXPECTED = {"ada": ["27.5", "40"], "grace": ["31", ""], "zed": ["", "12.25"], "alan": ["", ""]}
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _names(url: str) -> dict[str, tuple]:
    with Gradebook(url) as gb:
        return {s.id: (s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students}


# nbgrader's own add_submission builds its rows before adding them, which SQLAlchemy warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")


def _submit(gb: Gradebook, assignment: str, student: str, scores: dict[str, float],
            late: float = 0.0) -> None:
    """A graded submission, as autograding leaves it: an auto score per grade cell, a late penalty."""
    gb.add_submission(assignment, student)
    for cell, score in scores.items():
        gb.find_grade(cell, assignment, assignment, student).auto_score = score
    gb.find_submission_notebook(assignment, assignment, student).late_submission_penalty = late
    gb.db.commit()


def populate(url: str) -> None:
    """Two assignments; ada (both), grace (one, 2 points late), zed (one; not in Canvas), alan (none)."""
    with Gradebook(url) as gb:
        for name, cells in ASSIGNMENTS.items():
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            for cell, max_score in cells.items():
                gb.add_grade_cell(cell, name, name, max_score=max_score, cell_type="code")
        for sid, first, last, email in [("ada", "Ada", "Lovelace", "ada@uni.example"),
                                        ("grace", "Grace", "Hopper", None), ("zed", "Zed", "Shaw", None),
                                        ("alan", "Alan", "Turing", "alan@uni.example")]:
            gb.add_student(sid, first_name=first, last_name=last, email=email)
        _submit(gb, "mnist_batch_size", "ada", {"a": 18.0, "b": 9.5})
        _submit(gb, "mnist_hyperparameters", "ada", {"c": 40.0})
        _submit(gb, "mnist_batch_size", "grace", {"a": 20.0, "b": 13.0}, late=2.0)
        _submit(gb, "mnist_hyperparameters", "zed", {"c": 12.25})


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new, empty gradebook made once (nbgrader's migrations take seconds); tests get copies."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    Gradebook(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def url(tmp_path: Path, empty_gradebook: Path) -> str:
    shutil.copyfile(empty_gradebook, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


@pytest.fixture
def graded(url: str) -> str:
    populate(url)
    return url


# ------------------------------------------------------------------ rosters in


def test_a_canvas_export_imports_as_a_roster_skipping_its_non_student_rows(tmp_path: Path, url: str):
    path = _write(tmp_path, "canvas.csv", CANVAS_EXPORT)
    students = read_roster(path)
    assert [s.id for s in students] == ["ada", "grace", "alan"]  # no Points Possible, posting, Test Student
    assert import_roster(url, students).added == ["ada", "grace", "alan"]
    assert _names(url)["ada"] == ("Ada", "Lovelace", None, "1001")  # Canvas's ID is the lms_user_id
    assert import_roster(url, students).line() == "added 0, updated 3 students"
    assert [s.id for s in read_roster(path, "SIS User ID")] == ["U0001", "U0002", "U0003"]
    assert account_names(path) == ("ada", "grace", "alan")


def test_a_plain_roster_imports_names_and_emails_and_updates_without_erasing(tmp_path: Path, url: str):
    result = import_roster(url, read_roster(_write(tmp_path, "plain.csv", PLAIN)))
    assert (result.added, result.updated) == (["ada", "zed"], [])
    assert _names(url)["zed"] == ("Zed", "Shaw", "zed@uni.example", None)
    renamed = read_roster(_write(tmp_path, "again.csv", "id,first_name,last_name\nzed,Zedediah,Shaw\n"))
    assert import_roster(url, renamed).updated == ["zed"]
    assert _names(url)["zed"] == ("Zedediah", "Shaw", "zed@uni.example", None)  # a blank erases nothing


BAD = {
    "neither format": ("name,mail\nada,a@b\n", None, ["neither a plain roster", "its header is 'name,mail'"]),
    "missing column": (CANVAS_EXPORT, "Integration ID", ["no 'Integration ID' column", "--id-column"]),
    "empty id": ("id,first_name,last_name\nada,Ada,L\n,Bob,Smith\n", None,
                 ["line 3 (Smith, Bob): empty 'id'", "fill it in or remove the row"]),
    "empty Canvas login": (CANVAS_EXPORT.replace(",U0003,alan,", ",U0003,,"), None,
                           ["line 6 (Turing, Alan): empty 'SIS Login ID'"]),
    "duplicate id": ("id\nada\nbob\nada\n", None,
                     ["line 4: id 'ada' is also on line 2", "each student once"]),
    "unusable id": ("id\n../etc\n", None, ["path separator", "use a plain login name"]),
    "no students": ("id,first_name\n", None, ["no students in it"]),
}


@pytest.mark.parametrize("case", BAD)
def test_each_bad_roster_is_refused_naming_the_problem_and_nobody_is_imported(case: str, tmp_path: Path,
                                                                              url: str):
    text, id_column, said = BAD[case]
    path = _write(tmp_path, "roster.csv", text)
    with pytest.raises(RosterError) as caught:
        import_roster(url, read_roster(path, id_column))
    for words in said:
        assert words in str(caught.value), str(caught.value)
    assert _names(url) == {}  # validated first: not half-imported


def test_a_missing_or_undecodable_file_says_so(tmp_path: Path):
    with pytest.raises(RosterError, match="no such file"):
        read_roster(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes("id,last_name\nada,L\xf6we\n".encode("latin-1"))
    with pytest.raises(RosterError, match="CSV UTF-8"):
        read_roster(tmp_path / "latin1.csv")


def test_the_command_line_imports_into_the_courses_gradebook_and_says_what_it_did(tmp_path: Path, capsys,
                                                                                   empty_gradebook: Path):
    from autograder.__main__ import main

    course = tmp_path / "course"
    course.mkdir()
    shutil.copyfile(empty_gradebook, course / "gb.db")
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n"
                                               f"c.CourseDirectory.db_url = 'sqlite:///{course}/gb.db'\n")
    roster = _write(tmp_path, "plain.csv", PLAIN)
    assert main(["roster", "import", str(roster), "--course", str(course)]) == 0
    assert "roster import: added 2, updated 0 students in sqlite:///" in capsys.readouterr().out
    assert set(_names(f"sqlite:///{course}/gb.db")) == {"ada", "zed"}
    assert main(["roster", "import", str(_write(tmp_path, "bad.csv", "id\nada\nada\n")), "--course",
                 str(course)]) == 2
    assert "roster import: " in capsys.readouterr().err


def test_the_hub_takes_its_student_accounts_from_the_roster_and_refuses_a_bad_one(tmp_path: Path, capsys):
    from autograder.tools import hub

    assert hub.main(["--roster", str(_write(tmp_path, "bad.csv", "who\nada\n")), "--dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hub: ") and "neither a plain roster" in err


# ------------------------------------------------------------------ grades out


def _export(plugin_class, url: str, caplog: pytest.LogCaptureFixture, **traits) -> list[list[str]]:
    plugin = plugin_class(log=logging.getLogger("lms-test"), **traits)
    with caplog.at_level(logging.INFO, logger="lms-test"), Gradebook(url) as gb:
        plugin.export(gb)
    return _rows(Path(plugin.to))


def test_canvas_file_has_canvas_columns_points_possible_and_scores_matched_to_the_roster(
        tmp_path: Path, graded: str, caplog: pytest.LogCaptureFixture):
    roster = _write(tmp_path, "canvas.csv", CANVAS_EXPORT)
    rows = _export(CanvasExport, graded, caplog, roster=str(roster), to=str(tmp_path / "out.csv"))
    header, possible, *students = rows
    # Canvas's own column for mnist_batch_size (so Canvas updates it); a new title for the other.
    assert header == [*CANVAS_FIXED, "mnist_batch_size (48217)", "mnist_hyperparameters"]
    assert possible == ["Points Possible", "", "", "", "", "33", "40"]
    assert students == [
        ["Lovelace, Ada", "1001", "U0001", "ada", "MNIST 101 Section 1", "27.5", "40"],
        ["Hopper, Grace", "1002", "U0002", "grace", "MNIST 101 Section 1", "31", ""],  # late: 33 - 2
        ["Turing, Alan", "1003", "U0003", "alan", "MNIST 101 Section 2", "", ""],  # nothing submitted
        ["Shaw, Zed", "", "", "zed", "", "", "12.25"],  # not in Canvas: reported, and kept
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "not in Canvas's roster" in errors[0] and "zed" in errors[0], errors


def test_canvas_file_matches_by_canvas_id_and_exports_chosen_students_only(
        tmp_path: Path, graded: str, caplog: pytest.LogCaptureFixture):
    with Gradebook(graded) as gb:  # zed is Canvas's 1003 under another login (lms_user_id from the roster)
        gb.update_or_create_student("zed", lms_user_id="1003")
    roster = _write(tmp_path, "canvas.csv", CANVAS_EXPORT.replace(",U0003,alan,", ",U0003,zed.shaw,"))
    rows = _export(CanvasExport, graded, caplog, roster=str(roster), to=str(tmp_path / "out.csv"),
                   student=["zed"], assignment=["mnist_hyperparameters"])
    assert rows[2:] == [["Turing, Alan", "1003", "U0003", "zed.shaw", "MNIST 101 Section 2", "12.25"]]
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]


def test_canvas_file_without_a_roster_names_students_by_their_login(tmp_path: Path, graded: str,
                                                                    caplog: pytest.LogCaptureFixture):
    rows = _export(CanvasExport, graded, caplog, to=str(tmp_path / "out.csv"))
    assert rows[0] == [*CANVAS_FIXED, "mnist_batch_size", "mnist_hyperparameters"]
    assert {r[3]: r[5:] for r in rows[2:]} == EXPECTED


def test_moodle_file_by_username_and_by_email_reporting_who_has_no_email(tmp_path: Path, graded: str,
                                                                         caplog: pytest.LogCaptureFixture):
    rows = _export(MoodleExport, graded, caplog, to=str(tmp_path / "m.csv"))
    assert rows[0] == ["Username", "Email address", "First name", "Last name", "mnist_batch_size",
                       "mnist_hyperparameters"]
    assert {r[0]: r[4:] for r in rows[1:]} == EXPECTED
    caplog.clear()
    rows = _export(MoodleExport, graded, caplog, to=str(tmp_path / "e.csv"), identifier="email")
    assert [r[1] for r in rows[1:]] == ["ada@uni.example", "alan@uni.example"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "grace, zed" in errors[0] and "NOT in" in errors[0], errors


# ------------------------------------------------------------------ with nbgrader's own commands


@pytest.mark.slow
def test_nbgrader_lists_the_imported_names_and_exports_for_canvas_and_moodle(tmp_path: Path):
    from autograder.host.course import make_course, run_nbgrader
    from tests.helpers import run_module

    course = tmp_path / "course"
    make_course(course)
    roster = _write(tmp_path, "canvas.csv", CANVAS_EXPORT)
    proc = run_module("autograder", "roster", "import", str(roster), "--course", str(course), timeout=120)
    assert proc.returncode == 0 and "added 3, updated 0 students" in proc.stdout, proc.stderr
    listed = run_nbgrader(course, "db", "student", "list").stdout
    assert "ada (Lovelace, Ada)" in listed and "alan (Turing, Alan)" in listed and "None, None" not in listed
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_student("zed", first_name="Zed", last_name="Shaw")
        cells = [c.name for c in gb.find_notebook("mnist_batch_size", "mnist_batch_size").grade_cells
                 if c.cell_type == "code"]
        _submit(gb, "mnist_batch_size", "ada", dict.fromkeys(cells, 1.0))
        _submit(gb, "mnist_batch_size", "zed", dict.fromkeys(cells[:2], 1.0))
        total = gb.find_assignment("mnist_batch_size").max_score
    out = tmp_path / "canvas_out.csv"
    proc = run_nbgrader(course, "export", "--exporter=autograder.host.lms_export.CanvasExport",
                        f"--CanvasExport.roster={roster}", f"--to={out}")
    assert "ERROR" in proc.stderr and "zed" in proc.stderr, proc.stderr
    header, possible, *students = _rows(out)
    assert header == [*CANVAS_FIXED, "mnist_batch_size (48217)"] and possible[5] == f"{total:g}"
    assert {r[3]: r[5] for r in students} == {"ada": f"{len(cells)}", "grace": "", "alan": "", "zed": "2"}
    moodle = tmp_path / "moodle_out.csv"
    run_nbgrader(course, "export", "--exporter=autograder.host.lms_export.MoodleExport", f"--to={moodle}")
    assert {r[0]: r[4] for r in _rows(moodle)[1:]} == {"ada": f"{len(cells)}", "grace": "", "alan": "",
                                                      "zed": "2"}
