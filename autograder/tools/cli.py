"""Command line: ``mnist-autograder`` (``python -m autograder``): init, grade, grade-all, demo, doctor, ...

Limits come from the course's nbgrader configuration (:mod:`autograder.host.settings`); the
short flags and nbgrader-style ``--SafeGrading.timeout=600`` arguments override them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config

from autograder.host.course import DEFAULT_ASSIGNMENT, GradingError, require_template
from autograder.host.sandbox import SandboxUnavailable
from autograder.host.settings import ConfigError, command_line_config, load_settings

# short flag -> (SafeGrading trait, type)
FLAGS = {"timeout": float, "cell_timeout": float, "memory_gb": float, "workers": int,
         "kernel_threads": int, "scheduler": str}
EXIT_NOT_GRADED = 1  # some submission could not be graded (the report says which)
EXIT_INTERRUPTED = 130  # Ctrl-C: what was graded is recorded


def overrides(args: argparse.Namespace, extra: list[str]) -> Config:
    """Config from nbgrader-style arguments, then the short flags given on this command line."""
    config = command_line_config(extra)
    for name in FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            config.SafeGrading[name] = value
    return config


def cmd_grade(args: argparse.Namespace, extra: list[str]) -> int:
    from autograder.host.single import grade_notebook

    course = args.course.resolve() if args.course else require_template()
    settings = load_settings(course, overrides(args, extra))
    report = grade_notebook(args.notebook, args.assignment, settings, course)
    print(report.to_json() if args.json else "\n".join(report.table()))
    return 0


def cmd_init(args: argparse.Namespace, extra: list[str]) -> int:
    """Write a new course directory from the course this installation carries."""
    from autograder.host.course import init_course

    command_line_config(extra)  # takes no settings: refuse stray arguments clearly
    course = init_course(args.course, args.course_id)
    print(f"init: a new course in {course}\n"
          f"next: cd {course}, `mnist-autograder doctor`, then nbgrader's commands "
          "(or the Formgrader) from that folder: generate_assignment, release_assignment, collect, autograde")
    return 0


def cmd_remove_solutions(args: argparse.Namespace, extra: list[str]) -> int:
    """Delete the source notebooks this installation carries, for an environment students share."""
    from autograder.host.course import PACKAGED

    command_line_config(extra)
    source = PACKAGED / "source"
    if not source.is_dir():
        print(f"remove-solutions: {PACKAGED} holds no source notebooks (already removed, or a checkout)")
        return 0
    shutil.rmtree(source)
    print(f"remove-solutions: removed {source}; `init` and the demo now need a reinstall")
    return 0


def cmd_jupyter_config(args: argparse.Namespace, extra: list[str]) -> int:
    """Write the Jupyter config folder of an instructor's or a student's server on a hub."""
    from autograder.tools.lab import write_config

    command_line_config(extra)
    write_config(args.folder, instructor=args.role == "instructor")
    print(f"jupyter-config: {args.folder} ({args.role}); give it to the {args.role}s' servers as "
          "JUPYTER_CONFIG_PATH")
    return 0


def cmd_feedback_service(args: argparse.Namespace, extra: list[str]) -> int:
    """Feedback on submit: grade new submissions and release their feedback (until stopped, or --once)."""
    import logging
    import signal
    import threading

    from autograder.host.feedback_service import FeedbackService

    service = FeedbackService(args.course, command_line_config(extra))
    if args.status:
        for job in service.queue.jobs():
            print(f"{job.state:<8} {job.student:<24} {job.assignment:<24} {job.message}")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.once:
        if not service.settings.enabled:
            raise GradingError("feedback on submit is off for this course: set c.FeedbackOnSubmit.enabled "
                               "= True in its nbgrader_config.py (or --FeedbackOnSubmit.enabled=True)")
        while service.scan() or service.run_ready():
            pass
        return 0
    stop = threading.Event()
    if os.environ.get("JUPYTERHUB_SERVICE_URL"):  # run by JupyterHub with a URL: the queue's page too
        from autograder.host.feedback_page import serve_page

        threading.Thread(target=service.serve, args=(stop,), name="feedback", daemon=True).start()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve_page(service.queue)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        service.serve(stop)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_lab(args: argparse.Namespace, extra: list[str]) -> int:
    from autograder.tools.lab import main as lab_main

    return lab_main([*args.args, *extra])


def cmd_hub(args: argparse.Namespace, extra: list[str]) -> int:
    from autograder.tools.hub import main as hub_main

    return hub_main([*args.args, *extra])


def cmd_grade_all(args: argparse.Namespace, extra: list[str]) -> int:
    from autograder.host.classroom import grade_all
    from autograder.host.doctor import diagnose

    course = args.course.resolve()
    config = overrides(args, extra)
    students = [s for value in args.student or [] for s in value.split(",") if s]
    settings = load_settings(course, config)
    failed = [f for f in diagnose(course, settings, before_grading=True) if not f.ok]
    if failed:  # before anything is graded or recorded
        raise GradingError("grading cannot work on this machine, nothing was graded:\n"
                           + "\n".join(f.line() for f in failed)
                           + "\n(`mnist-autograder doctor` checks again)")
    summary = grade_all(course, args.assignment, settings, overrides=config,
                        students=students, only_new=args.only_new)
    print("\n".join(summary.lines()))
    if args.report:
        summary.write(args.report)
        print(f"report: {args.report}")
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_NOT_GRADED if summary.failed else 0


def cmd_demo(args: argparse.Namespace, extra: list[str]) -> int:
    from autograder.tools.demo import print_grade_table, run_demo

    command_line_config(extra)  # the demo takes no settings; refuse stray arguments clearly
    course = args.course.resolve()
    print_grade_table(course, run_demo(course, args.assignment))
    return 0


def cmd_doctor(args: argparse.Namespace, extra: list[str]) -> int:
    """Check everything grading needs on this machine, one line each; exit 0 only when all pass."""
    from autograder.host.doctor import diagnose

    course = args.course.resolve()
    findings = diagnose(course, load_settings(course, command_line_config(extra)))
    print("\n".join(f.line() for f in findings))
    ok = all(f.ok for f in findings)
    print("grading can work here" if ok else "grading cannot work here: fix the lines marked ✘")
    return 0 if ok else 1


def cmd_roster_import(args: argparse.Namespace, extra: list[str]) -> int:
    """Add or update a roster's students in the course's gradebook; exit 2 naming what is wrong."""
    from autograder.host.roster import RosterError, import_roster, read_roster
    from autograder.host.settings import course_config, db_url

    course = args.course.resolve()
    url = db_url(course, course_config(course, command_line_config(extra)))
    try:
        result = import_roster(url, read_roster(args.file, args.id_column))
    except RosterError as exc:
        print(f"roster import: {exc}", file=sys.stderr)
        return 2
    print(f"roster import: {result.line()} in {url}")
    return 0


def _limit_flags(parser: argparse.ArgumentParser, workers: bool) -> None:
    """The short flags for the SafeGrading settings; defaults come from the configuration."""
    parser.add_argument("--timeout", type=float, help="seconds per submission (SafeGrading.timeout)")
    parser.add_argument("--cell-timeout", type=float,
                        help="seconds per cell before it is interrupted (SafeGrading.cell_timeout)")
    parser.add_argument("--memory-gb", type=float, help="memory limit per kernel (SafeGrading.memory_gb)")
    if workers:
        parser.add_argument("--workers", type=int, help="submissions graded at once on this machine, "
                            "0 = cores // kernel threads (SafeGrading.workers)")
        parser.add_argument("--kernel-threads", type=int,
                            help="CPU threads per kernel and judge (SafeGrading.kernel_threads)")
        parser.add_argument("--scheduler", help="grade on an existing Dask cluster: its scheduler's "
                            "address, tcp://HOST:8786 (SafeGrading.scheduler)")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m autograder`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__,
        epilog="Any setting can also be given nbgrader-style, e.g. --SafeGrading.timeout=600.")
    sub = parser.add_subparsers(dest="command", required=True)
    i = sub.add_parser("init", help="write a new course directory (nbgrader_config.py and both assignments' "
                       "source/) from the course this installation carries; never overwrites one")
    i.add_argument("course", type=Path, help="the new course's folder (made if missing)")
    i.add_argument("--course-id", help="nbgrader's course id (default the template's, mnist-batch-size)")
    i.set_defaults(func=cmd_init)

    g = sub.add_parser("grade", help="autograde one notebook in a throwaway course")
    g.add_argument("notebook", type=Path)
    g.add_argument("--course", type=Path, help="the course whose assignment and settings to use "
                   "(default: the one this installation carries)")
    g.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    g.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                   help=f"the assignment the notebook belongs to (default {DEFAULT_ASSIGNMENT}; also "
                   "mnist_hyperparameters, whose exercise10_run.npz beside the notebook is handed in too)")
    _limit_flags(g, workers=False)
    g.set_defaults(func=cmd_grade)

    ga = sub.add_parser("grade-all", help="grade every collected submission of a course on a Dask "
                        "cluster (local by default); exits 1 if any could not be graded")
    ga.add_argument("course", type=Path, help="the nbgrader course directory")
    ga.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                    help=f"the assignment to grade (default {DEFAULT_ASSIGNMENT}; or mnist_hyperparameters)")
    ga.add_argument("--student", action="append", metavar="ID[,ID...]",
                    help="grade only these students (repeat, or separate with commas)")
    ga.add_argument("--only-new", action="store_true", help="skip submissions graded before and "
                    "unchanged since (resumes a run stopped by Ctrl-C)")
    ga.add_argument("--report", type=Path, metavar="FILE",
                    help="write student, score, seconds and problems to FILE (.csv, or .json)")
    _limit_flags(ga, workers=True)
    ga.set_defaults(func=cmd_grade_all)

    d = sub.add_parser("demo", help="grade a demo class end to end with nbgrader's own commands")
    d.add_argument("--course", type=Path, default=Path("demo-course"),
                   help="course directory to (re)create (default: ./demo-course)")
    d.add_argument("--assignment", action="append", metavar="NAME",
                   help="only this assignment (repeat for several; default: every one in source/)")
    d.set_defaults(func=cmd_demo)

    dr = sub.add_parser("doctor", help="check everything grading needs on this machine (sandbox, no "
                        "network, MNIST, TensorFlow, exchange, gradebook, Dask workers); exits 1 if not")
    dr.add_argument("course", type=Path, nargs="?", default=Path("."), help="the course (default .)")
    dr.set_defaults(func=cmd_doctor)

    r = sub.add_parser("roster", help="the class roster").add_subparsers(dest="action", required=True)
    ri = r.add_parser("import", help="add or update students (id, names, email) in the gradebook from a "
                      "CSV: nbgrader's id,first_name,last_name,email or Canvas's gradebook export")
    ri.add_argument("file", type=Path, help="the roster CSV")
    ri.add_argument("--course", type=Path, default=Path("."), help="the course directory (default .)")
    ri.add_argument("--id-column", help="Canvas's column holding the nbgrader ids (default 'SIS Login ID')")
    ri.set_defaults(func=cmd_roster_import)

    fs = sub.add_parser("feedback-service", help="feedback on submit: grade each new submission in the "
                        "exchange and release its feedback (c.FeedbackOnSubmit in the course's config)")
    fs.add_argument("course", type=Path, nargs="?", default=Path("."), help="the course (default .)")
    fs.add_argument("--once", action="store_true", help="give the feedback that may run now, then stop")
    fs.add_argument("--status", action="store_true", help="print the queue: waiting, grading, done, failed")
    fs.set_defaults(func=cmd_feedback_service)

    jc = sub.add_parser("jupyter-config", help="write a Jupyter config folder for instructors' or "
                        "students' servers on a hub (nbgrader's extensions; no Formgrader for students)")
    jc.add_argument("folder", type=Path, help="the folder to write (its files are replaced)")
    jc.add_argument("--role", choices=("instructor", "student"), required=True)
    jc.set_defaults(func=cmd_jupyter_config)

    lab = sub.add_parser("lab", help="JupyterLab with nbgrader's extensions for a course (--course, "
                         "default .); its options: mnist-autograder lab -- --help", add_help=False)
    lab.add_argument("args", nargs=argparse.REMAINDER)
    lab.set_defaults(func=cmd_lab)
    hub = sub.add_parser("hub", help="the course on a JupyterHub (its options: mnist-autograder hub -- "
                         "--help)", add_help=False)
    hub.add_argument("args", nargs=argparse.REMAINDER)
    hub.set_defaults(func=cmd_hub)

    rs = sub.add_parser("remove-solutions", help="delete the source notebooks (solutions, hidden tests) this "
                        "installation carries, after `init`, where students can read the environment")
    rs.set_defaults(func=cmd_remove_solutions)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 2 with a one-line reason when grading cannot happen."""
    args, extra = build_parser().parse_known_args(argv)
    try:
        return args.func(args, extra)
    except (GradingError, SandboxUnavailable, ConfigError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
