"""Class rosters into nbgrader's gradebook, so the Formgrader shows names instead of "None, None".

Two CSV formats are read:

* **plain**: nbgrader's own ``nbgrader db student import`` format, a header with ``id`` and
  optionally ``first_name``, ``last_name``, ``email``, ``lms_user_id``;
* **Canvas**: Canvas's gradebook export (*Grades > Export*): ``Student`` ("Last, First"), ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment.  Its
  "Points Possible" row, "Manual Posting"/"Muted" rows and Canvas's *Test Student* are skipped;
  the nbgrader student id is the ``SIS Login ID`` (or another column), Canvas's ``ID`` becomes
  the student's ``lms_user_id``.

Every row is checked before anything is written: a bad file imports nobody.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.host.exchange import student_id_problem

PLAIN_ID = "id"
PLAIN_FIELDS = ("first_name", "last_name", "email", "lms_user_id")
CANVAS_ID = "SIS Login ID"  # the column that holds nbgrader's student ids, unless told otherwise
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_NOT_STUDENTS = {"", "muted", "manual posting", "(read only)"}  # cells of Canvas's non-student rows
CANVAS_TEST_STUDENT = "Student, Test"  # Canvas's Student View user, in every export
MAX_PROBLEMS = 20  # problems listed in one error; the rest counted


class RosterError(ValueError):
    """A roster file that cannot be imported; the message names each problem and its fix."""


@dataclass(frozen=True)
class RosterStudent:
    """One student as the gradebook gets them; None leaves what the gradebook has."""

    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None

    def fields(self) -> dict[str, str]:
        """The non-empty fields, as ``Gradebook.update_or_create_student`` takes them."""
        return {k: v for k in PLAIN_FIELDS if (v := getattr(self, k))}


@dataclass
class CanvasGradebook:
    """Canvas's gradebook export: its header and its student rows (column -> cell, line number)."""

    header: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def assignment_column(self, name: str) -> str | None:
        """Canvas's column for an assignment titled ``name`` ("name (12345)"), if it has one."""
        start = self.header.index("Section") + 1 if "Section" in self.header else len(CANVAS_FIXED)
        for title in self.header[start:]:
            if re.sub(r"\s*\(\d+\)$", "", title.strip()) == name:
                return title
        return None


@dataclass
class ImportResult:
    """What an import did: the ids added to the gradebook and those updated."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the instructor."""
        return f"added {len(self.added)}, updated {len(self.updated)} students"


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (stripped) and the non-blank rows with their line numbers; RosterError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: no such file; give the roster CSV exported from the LMS")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # Canvas may write a byte-order mark
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"{path}: not a UTF-8 CSV file ({exc}); save it from the LMS or a "
                          "spreadsheet as 'CSV UTF-8'") from exc
    return header, rows


def is_canvas(header: list[str]) -> bool:
    """True for the header of Canvas's gradebook export."""
    return bool(header) and header[0] == "Student" and "ID" in header


def read_canvas(path: Path) -> CanvasGradebook:
    """Canvas's gradebook export, without its Points Possible, posting and Test Student rows."""
    header, rows = read_rows(path)
    if not is_canvas(header):
        raise RosterError(f"{path}: not Canvas's gradebook export (its header starts 'Student,ID,...'; "
                          f"this one is {','.join(header[:6])!r}); export it from Canvas's Grades page")
    book = CanvasGradebook(header)
    for line, row in rows:
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        if not not_a_student(cells, [c.strip() for c in row]):
            book.rows.append(cells)
            book.lines.append(line)
    return book


def not_a_student(cells: dict[str, str], row: list[str]) -> bool:
    """True for Canvas's rows that are not students: Points Possible, Manual Posting/Muted, Test Student."""
    ids = [cells.get(c, "") for c in CANVAS_FIXED[1:4]]  # ID, SIS User ID, SIS Login ID
    if row[0] == "Points Possible":  # "    Points Possible" in newer exports, stripped here
        return True
    if row[0].lower() in CANVAS_NOT_STUDENTS | {"student"} and not any(ids):
        return {c.lower() for c in row[1:]} <= CANVAS_NOT_STUDENTS
    return row[0] == CANVAS_TEST_STUDENT and not any(ids[1:])


def split_name(name: str) -> tuple[str | None, str | None]:
    """Canvas's sortable name "Last, First" as (first, last)."""
    last, comma, first = name.partition(",")
    return (first.strip() or None, last.strip() or None) if comma else (None, name.strip() or None)


def canvas_students(path: Path, id_column: str) -> list[tuple[int, RosterStudent]]:
    """(line, student) for each row of Canvas's export, the id from ``id_column``."""
    book = read_canvas(path)
    if id_column not in book.header:
        raise RosterError(f"{path}: Canvas's export has no {id_column!r} column (it has "
                          f"{', '.join(book.header[:5])}); choose the column that holds the students' "
                          "nbgrader ids with --id-column, e.g. --id-column 'SIS User ID'")
    found = []
    for line, row in zip(book.lines, book.rows, strict=True):
        first, last = split_name(row.get("Student", ""))
        found.append((line, RosterStudent(row.get(id_column, ""), first, last, None, row.get("ID") or None)))
    return found


def plain_students(header: list[str], rows: list[tuple[int, list[str]]]) -> list[tuple[int, RosterStudent]]:
    """(line, student) for each row of nbgrader's own id,first_name,last_name,email format."""
    found = []
    for line, row in rows:
        cells = {h: c.strip() for h, c in zip(header, row, strict=False)}
        values = (cells.get(k) or None for k in PLAIN_FIELDS)
        found.append((line, RosterStudent(cells.get(PLAIN_ID, ""), *values)))
    return found


def read_roster(path: Path, id_column: str | None = None) -> list[RosterStudent]:
    """The students of a plain or Canvas roster, every row checked; RosterError lists all problems."""
    header, rows = read_rows(path)
    if is_canvas(header):
        found = canvas_students(path, id_column or CANVAS_ID)
        column = id_column or CANVAS_ID
    elif PLAIN_ID in header:
        found, column = plain_students(header, rows), PLAIN_ID
    else:
        raise RosterError(
            f"{path}: neither a plain roster (a header with 'id' and optionally "
            "'first_name,last_name,email') nor Canvas's gradebook export (a header starting "
            f"'Student,ID,SIS User ID,SIS Login ID,Section'); its header is {','.join(header[:6])!r}")
    problems, seen = [], {}
    for line, student in found:
        if not student.id:
            who = f" ({student.last_name}, {student.first_name})" if student.last_name else ""
            problems.append(f"line {line}{who}: empty {column!r}; fill it in or remove the row")
        elif student.id in seen:
            problems.append(f"line {line}: id {student.id!r} is also on line {seen[student.id]}; "
                            "each student once")
        elif why := student_id_problem(student.id):
            problems.append(f"line {line}: {why}; nbgrader names folders after it, so use a plain login name")
        seen.setdefault(student.id, line)
    if not found:
        problems.append("no students in it; export the roster with its students")
    if problems:
        more = [f"... and {len(problems) - MAX_PROBLEMS} more"] if len(problems) > MAX_PROBLEMS else []
        raise RosterError(f"{path}: nothing imported:\n  " + "\n  ".join(problems[:MAX_PROBLEMS] + more))
    return [student for _, student in found]


def import_roster(db_url: str, students: list[RosterStudent]) -> ImportResult:
    """Add or update ``students`` in the gradebook at ``db_url`` with nbgrader's own API."""
    from nbgrader.api import Gradebook

    result = ImportResult()
    with Gradebook(db_url) as gb:
        known = {s.id for s in gb.students}
        for student in students:
            gb.update_or_create_student(student.id, **student.fields())
            (result.updated if student.id in known else result.added).append(student.id)
    return result


def account_names(path: Path, id_column: str | None = None) -> tuple[str, ...]:
    """The hub's student accounts from a roster file: the nbgrader ids, one account each."""
    return tuple(student.id for student in read_roster(path, id_column))
