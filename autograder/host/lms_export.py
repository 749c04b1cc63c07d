"""Grades out of nbgrader into an LMS: exporter plugins for ``nbgrader export --exporter ...``.

* :class:`CanvasExport` writes what Canvas's gradebook import (*Grades > Import*) takes: the
  columns ``Student,ID,SIS User ID,SIS Login ID,Section``, then one column per assignment (a
  title Canvas does not know becomes a new assignment), a ``Points Possible`` row, and one row
  per student.  Given Canvas's own gradebook export (``--CanvasExport.roster=FILE``) it copies
  each student's Canvas ids and section from it, keeps Canvas's column of an assignment of the
  same name, and reports (an ERROR line) every gradebook student it lacks, still written.
* :class:`MoodleExport` writes what Moodle's *Import > CSV file* takes: ``Username``,
  ``Email address``, names, then one column per assignment, mapped on Moodle's import page.

A student with no submission gets an empty cell (no grade, in both LMSs), not nbgrader's 0;
a submission's score is nbgrader's, less its late penalty, as ``grades.csv`` has it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Assignment, Gradebook, Student
from nbgrader.plugins import ExportPlugin
from traitlets import Enum, Unicode

from autograder.host.roster import CANVAS_FIXED, CANVAS_ID, CanvasGradebook, read_canvas

MOODLE_FIXED = ("Username", "Email address", "First name", "Last name")


def points(value: float) -> str:
    """A score as the LMS reads it: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def chosen(plugin: ExportPlugin, gradebook: Gradebook) -> tuple[list[Assignment], list[Student]]:
    """The assignments and students to export (``--assignment``, ``--student``; default all)."""
    names, ids = {str(a) for a in plugin.assignment}, {str(s) for s in plugin.student}
    return ([a for a in gradebook.assignments if not names or a.name in names],
            [s for s in gradebook.students if not ids or s.id in ids])


def scores(gradebook: Gradebook, assignments: list[Assignment]) -> dict[tuple[str, str], str]:
    """(student id, assignment) -> the submission's score less its late penalty, as in grades.csv."""
    found = {}
    for assignment in assignments:
        for sub in gradebook.assignment_submissions(assignment.name):
            penalty = sub.late_submission_penalty or 0.0
            found[sub.student_id, assignment.name] = points(max(0.0, sub.score - penalty))
    return found


def sortable_name(student: Student) -> str:
    """Canvas's "Last, First" for a gradebook student (their id when the gradebook has no name)."""
    parts = [p for p in (student.last_name, student.first_name) if p]
    return ", ".join(parts) or student.id


def match(book: CanvasGradebook, students: list[Student],
          id_column: str) -> tuple[dict[int, Student], list[Student]]:
    """Canvas row index -> its gradebook student, and the students with no Canvas row.

    A student matches a row whose ``id_column``, ``SIS Login ID`` or ``SIS User ID`` is their
    nbgrader id, or whose Canvas ``ID`` is their ``lms_user_id`` (the roster import sets it).
    """
    index: dict[str, int] = {}
    for i, row in enumerate(book.rows):
        for column in (id_column, "SIS Login ID", "SIS User ID"):
            if row.get(column):
                index.setdefault(row[column], i)
    by_canvas_id = {row["ID"]: i for i, row in enumerate(book.rows) if row.get("ID")}
    matched: dict[int, Student] = {}
    unmatched = []
    for student in students:
        i = index.get(student.id, by_canvas_id.get(student.lms_user_id or ""))
        if i is None or i in matched:
            unmatched.append(student)
        else:
            matched[i] = student
    return matched, unmatched


class CanvasExport(ExportPlugin):
    """Grades as a CSV for Canvas's gradebook import, students matched to Canvas's roster."""

    roster = Unicode("", help="Canvas's own gradebook export (Grades > Export), to match students "
                     "by: its ids and sections are copied; gradebook students missing from it are "
                     "reported and still written").tag(config=True)
    id_column = Unicode(CANVAS_ID, help="the roster's column holding nbgrader's student ids").tag(config=True)

    unmatched: list[str] = []  # the last export's gradebook students with no Canvas row

    def export(self, gradebook: Gradebook) -> None:
        """Write the Canvas import file to ``--to`` (default canvas_grades.csv)."""
        dest = self.to or "canvas_grades.csv"
        assignments, students = chosen(self, gradebook)
        got = scores(gradebook, assignments)
        book = read_canvas(Path(self.roster)) if self.roster else CanvasGradebook(list(CANVAS_FIXED))
        matched, unmatched = match(book, students, self.id_column)
        rows = []
        for i, row in enumerate(book.rows):
            student = matched.get(i)
            if student is not None or not self.student:  # Canvas's other students: empty cells
                rows.append(([row.get(c, "") for c in CANVAS_FIXED], student.id if student else None))
        rows += [([sortable_name(s), "", "", s.id, ""], s.id) for s in unmatched]
        self.unmatched = [s.id for s in unmatched]
        if self.roster and unmatched:
            self.log.error("%d gradebook student(s) not in Canvas's roster %s: %s; written with their "
                           "nbgrader id as SIS Login ID, so Canvas's import lists them as not found: "
                           "enrol them in Canvas, or fix their ids (--CanvasExport.id_column)",
                           len(unmatched), self.roster, ", ".join(self.unmatched))
        elif not self.roster:
            self.log.info("No --CanvasExport.roster: Canvas matches students by SIS Login ID = nbgrader id")
        titles = [book.assignment_column(a.name) or a.name for a in assignments]
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow([*CANVAS_FIXED, *titles])
            out.writerow(["Points Possible", "", "", "", "", *(points(a.max_score) for a in assignments)])
            for fixed, sid in rows:
                out.writerow([*fixed, *(got.get((sid, a.name), "") for a in assignments)])
        self.log.info("Wrote %d students and %d assignments for Canvas to %s", len(rows), len(titles), dest)


class MoodleExport(ExportPlugin):
    """Grades as a CSV for Moodle's "Import grades > CSV file", one column per assignment."""

    identifier = Enum(["username", "email"], default_value="username",
                      help="what Moodle matches students by: 'username' (nbgrader's id is the Moodle "
                      "username) or 'email' (the gradebook's email address)").tag(config=True)

    missing: list[str] = []  # the last export's students left out for want of an identifier

    def export(self, gradebook: Gradebook) -> None:
        """Write the Moodle import file to ``--to`` (default moodle_grades.csv)."""
        dest = self.to or "moodle_grades.csv"
        assignments, students = chosen(self, gradebook)
        got = scores(gradebook, assignments)
        # Moodle gives a row with a blank identifier to the row before it: such students are left out.
        self.missing = [s.id for s in students if self.identifier == "email" and not s.email]
        if self.missing:
            self.log.error("%d student(s) have no email address in the gradebook and are NOT in %s: "
                           "%s; import the roster with emails, or use --MoodleExport.identifier=username",
                           len(self.missing), dest, ", ".join(self.missing))
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow([*MOODLE_FIXED, *(a.name for a in assignments)])
            for s in students:
                if s.id not in self.missing:
                    out.writerow([s.id, s.email or "", s.first_name or "", s.last_name or "",
                                  *(got.get((s.id, a.name), "") for a in assignments)])
        self.log.info("Wrote %d students for Moodle to %s; in Moodle map 'Identify user by' from %r to %r",
                      len(students) - len(self.missing), dest,
                      *(("Username", "username") if self.identifier == "username"
                        else ("Email address", "useremail")))
