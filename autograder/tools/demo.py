"""The main job: a demo class graded end to end with nbgrader's own commands.

Builds a course directory (the config and source this installation carries), generates the student version of
each assignment, submits three sample notebooks to each (the reference solution, a typical
half-right one, the blank release), autogrades them, generates feedback, exports the grades
and prints a grade table per assignment.  The second assignment's solution and half-right
notebooks hand in exercise 10's saved run, made once at full size by the notebook's own cells.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

from autograder.host.classroom import grade_all
from autograder.host.course import make_course, notebook_name, require_template, run_nbgrader, submit
from autograder.host.report import GradeReport
from autograder.tools.hyperparameter_samples import ALL_MISTAKES
from autograder.tools.samples import HALF_RIGHT, Edits, apply_edits
from autograder.tools.saved_run import make_saved_run, needs_saved_run

HALF_RIGHT_EDITS: dict[str, Edits] = {"mnist_batch_size": HALF_RIGHT, "mnist_hyperparameters": ALL_MISTAKES}


def course_assignments(root: Path | None = None) -> list[str]:
    """The assignments in ``root``'s source folder (default: this installation's course), in order."""
    root = root or require_template()
    return sorted(p.name for p in (root / "source").iterdir() if any(p.glob("*.ipynb")))


def sample_submissions(course: Path, assignment: str, work: Path) -> dict[str, Path]:
    """student id -> notebook: the solution, a half-right attempt, and the untouched release."""
    name = notebook_name(course, assignment)
    source = course / "source" / assignment / f"{name}.ipynb"
    release = course / "release" / assignment / f"{name}.ipynb"
    return {
        "ada_reference": source,
        "bob_half_right": apply_edits(source, HALF_RIGHT_EDITS[assignment],
                                      work / f"{assignment}-half_right.ipynb"),
        "cy_blank": release,
    }


def run_demo(course: Path, assignments: list[str] | None = None) -> dict[str, dict[str, GradeReport]]:
    """Generate, submit, autograde, give feedback and export; returns assignment -> student -> report."""
    if course.exists():
        shutil.rmtree(course)
    t0 = time.perf_counter()
    work = course.parent / f"{course.name}-work"
    results: dict[str, dict[str, GradeReport]] = {}
    for assignment in assignments or course_assignments():
        print(f"[1/4] {assignment}: generate_assignment in {course}", flush=True)
        make_course(course, assignment)
        print(f"[2/4] {assignment}: sample submissions: reference solution, half-right, blank", flush=True)
        students = sample_submissions(course, assignment, work)
        source = students["ada_reference"]
        for student, notebook in students.items():
            handed_in = submit(course, assignment, student, notebook)
            if student != "cy_blank" and needs_saved_run(source):
                print(f"      {student}: exercise 10's run, saved as a student saves it in JupyterLab "
                      "(trained once at full size, then reused)", flush=True)
                make_saved_run(source, handed_in.parent)
        print(f"[3/4] {assignment}: autograde ({len(students)} submissions, sandboxed, in parallel)",
              flush=True)
        summary = grade_all(course, assignment)
        print("\n".join(summary.lines()), flush=True)
        print(f"[4/4] {assignment}: generate_feedback", flush=True)
        run_nbgrader(course, "generate_feedback", assignment, "--force")
        by_student = {o.student: o.report for o in summary.outcomes}
        results[assignment] = {s: by_student[s] for s in students}  # grade_all's reports, in the demo's order
    print("export grades", flush=True)
    run_nbgrader(course, "export")
    print(f"done in {time.perf_counter() - t0:.0f} s\n", flush=True)
    return results


def print_grade_table(course: Path, results: dict[str, dict[str, GradeReport]]) -> None:
    """Points per grade cell and student for each assignment, then nbgrader's exported totals and feedback."""
    for assignment, reports in results.items():
        print(f"\n{assignment}")
        _print_cells(reports)
    _print_export_and_feedback(course)


def _print_cells(reports: dict[str, GradeReport]) -> None:
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


def _print_export_and_feedback(course: Path) -> None:
    grades_csv = course / "grades.csv"
    if grades_csv.is_file():
        print(f"\nnbgrader export ({grades_csv}):")
        with grades_csv.open() as f:
            for row in csv.DictReader(f):
                print(f"  {row['assignment']:<22} {row['student_id']:<16} score {float(row['score']):g} / "
                      f"{float(row['max_score']):g}  (written answers still to be graded by hand)")
    print("\nFeedback for students:")
    for path in sorted((course / "feedback").rglob("*.html")):
        print(f"  {path}")
