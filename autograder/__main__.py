"""Command line: ``python -m autograder {grade NOTEBOOK.ipynb [--json], grade-all COURSE, demo}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.pipeline import DEFAULT_ASSIGNMENT, GradeReport, GradingError, grade_notebook
from autograder.sandbox import SandboxUnavailable


def print_table(report: GradeReport) -> None:
    """A table per grade cell: grade_id, points, max points, and the first line of its message."""
    width = max([len(c.grade_id) for c in report.cells] + [8])
    print(f"{'grade_id':<{width}}  {'points':>6}  {'max':>4}  message")
    for c in report.cells:
        lines = [ln.strip() for ln in c.message.splitlines() if ln.strip()]
        wrong = [ln for ln in lines if ln.startswith("✘")]
        first = (wrong or lines or [""])[0]
        print(f"{c.grade_id:<{width}}  {c.points:>6g}  {c.max_points:>4g}  {first}")
    print(f"{'total':<{width}}  {report.score:>6g}  {report.max_score:>4g}")


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        report = grade_notebook(args.notebook, args.assignment, timeout=args.timeout)
    except (GradingError, SandboxUnavailable) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(report.to_json())
    else:
        print_table(report)
    return 0


def cmd_grade_all(args: argparse.Namespace) -> int:
    from autograder.classroom import grade_all
    from autograder.sandbox import GiB, Limits, SandboxUnavailable

    try:
        summary = grade_all(args.course, args.assignment, args.workers, args.timeout,
                            Limits(memory_bytes=int(args.memory_gb * GiB)))
    except (GradingError, SandboxUnavailable) as exc:
        print(f"grade-all: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograder.demo import print_grade_table, run_demo

    try:
        reports = run_demo(args.course.resolve(), args.assignment)
    except GradingError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    print_grade_table(args.course.resolve(), reports)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="autograde one notebook in a throwaway course")
    g.add_argument("notebook", type=Path)
    g.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    g.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    g.add_argument("--timeout", type=float, default=300, help="seconds before grading stops (default 300)")
    g.set_defaults(func=cmd_grade)

    ga = sub.add_parser("grade-all", help="grade every collected submission of a course, in parallel")
    ga.add_argument("course", type=Path, help="the nbgrader course directory")
    ga.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    ga.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    ga.add_argument("--timeout", type=float, default=300, help="seconds per submission (default 300)")
    ga.add_argument("--memory-gb", type=float, default=8, help="memory limit per submission (default 8)")
    ga.set_defaults(func=cmd_grade_all)
    d = sub.add_parser("demo", help="grade a demo class end to end with nbgrader's own commands")
    d.add_argument("--course", type=Path, default=Path("demo-course"),
                   help="course directory to (re)create (default: ./demo-course)")
    d.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    d.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
