"""The main job: a demo class graded end to end with nbgrader's own commands.

Builds a course directory (this course's config and source), generates the student version,
submits three sample notebooks (the reference solution, a typical half-right one, the blank
release), autogrades them, generates feedback, exports the grades and prints the grade table.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

from autograder.host.classroom import grade_all
from autograder.host.course import DEFAULT_ASSIGNMENT, make_course, notebook_name, run_nbgrader, submit
from autograder.host.report import GradeReport
from autograder.tools.samples import HALF_RIGHT, apply_edits


def sample_submissions(course: Path, assignment: str, work: Path) -> dict[str, Path]:
    """student id -> notebook: the solution, a half-right attempt, and the untouched release."""
    name = notebook_name(course, assignment)
    source = course / "source" / assignment / f"{name}.ipynb"
    release = course / "release" / assignment / f"{name}.ipynb"
    return {
        "ada_reference": source,
        "bob_half_right": apply_edits(source, HALF_RIGHT, work / "half_right.ipynb"),
        "cy_blank": release,
    }


def run_demo(course: Path, assignment: str = DEFAULT_ASSIGNMENT) -> dict[str, GradeReport]:
    """Generate, submit, autograde, give feedback and export; returns each student's report."""
    if course.exists():
        shutil.rmtree(course)
    t0 = time.perf_counter()
    print(f"[1/5] generate_assignment {assignment} in {course}", flush=True)
    make_course(course, assignment)
    print("[2/5] sample submissions: reference solution, half-right, blank", flush=True)
    students = sample_submissions(course, assignment, course.parent / f"{course.name}-work")
    for student, notebook in students.items():
        submit(course, assignment, student, notebook)
    print(f"[3/5] autograde ({len(students)} submissions, sandboxed, in parallel)", flush=True)
    summary = grade_all(course, assignment)
    print("\n".join(summary.lines()), flush=True)
    print("[4/5] generate_feedback", flush=True)
    run_nbgrader(course, "generate_feedback", assignment, "--force")
    print("[5/5] export grades", flush=True)
    run_nbgrader(course, "export")
    by_student = {o.student: o.report for o in summary.outcomes}
    reports = {s: by_student[s] for s in students}  # grade_all's own reports, in the demo's order
    print(f"done in {time.perf_counter() - t0:.0f} s\n", flush=True)
    return reports


def print_grade_table(course: Path, reports: dict[str, GradeReport]) -> None:
    """Points per grade cell and student, then nbgrader's exported totals and the feedback files."""
    students = list(reports)
    ids = [c.grade_id for c in next(iter(reports.values())).cells]
    width = max(len(i) for i in ids + ["grade_id"])
    print(f"{'grade_id':<{width}}  " + "  ".join(f"{s:>14}" for s in students))
    for gid in ids:
        row = []
        for s in students:
            cell = next(c for c in reports[s].cells if c.grade_id == gid)
            row.append(f"{cell.points:g}/{cell.max_points:g}".rjust(14))
        print(f"{gid:<{width}}  " + "  ".join(row))
    print(f"{'autograded total':<{width}}  "
          + "  ".join(f"{reports[s].score:g}/{reports[s].max_score:g}".rjust(14) for s in students))
    grades_csv = course / "grades.csv"
    if grades_csv.is_file():
        print(f"\nnbgrader export ({grades_csv}):")
        with grades_csv.open() as f:
            for row in csv.DictReader(f):
                print(f"  {row['student_id']:<16} score {float(row['score']):g} / "
                      f"{float(row['max_score']):g}  (written answers still to be graded by hand)")
    print("\nFeedback for students:")
    for path in sorted((course / "feedback").rglob("*.html")):
        print(f"  {path}")
