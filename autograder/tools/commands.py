"""The subcommands of ``mnist-autograder``: each one's options (traits), arguments and what it does."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets import Bool, List, Unicode
from traitlets.config import Application

from autograder.host.course import DEFAULT_ASSIGNMENT, GradingError, require_template
from autograder.host.settings import ConfigError
from autograder.tools.command import CLUSTER_ALIASES, LIMIT_ALIASES, PROG, Command, summary
from autograder.tools.hub.cli import Hub
from autograder.tools.lab import Lab

EXIT_NOT_GRADED = 1  # some submission could not be graded (the report says which)
EXIT_INTERRUPTED = 130  # Ctrl-C: what was graded is recorded
ROLES = ("instructor", "student")


class Init(Command):
    """Write a new course directory (nbgrader_config.py and both assignments' source/) from the course
    this installation carries; never overwrites one."""

    name = f"{PROG} init"
    arguments, positional = "COURSE", (1, 1)
    course_id = Unicode(None, allow_none=True, help="nbgrader's course id (default the template's, "
                        "mnist-batch-size).").tag(config=True)
    aliases = {**Command.aliases, "course-id": "Init.course_id"}
    examples = f"{PROG} init fall-course --course-id ml-101.fall_2027"

    def run(self) -> int:
        from autograder.host.course import init_course

        course = init_course(Path(self.extra_args[0]), self.course_id)
        print(f"init: a new course in {course}\n"
              f"next: cd {course}, `mnist-autograder doctor`, then nbgrader's commands "
              "(or the Formgrader) from that folder: generate_assignment, release_assignment, collect, "
              "autograde")
        return 0


class Grade(Command):
    """Autograde one notebook in a throwaway course and print its grades (exit 0 whatever the score)."""

    name = f"{PROG} grade"
    arguments, positional = "NOTEBOOK", (1, 1)
    course_dir = Unicode("", help="The course whose assignment and settings to use (default: the one "
                         "this installation carries).").tag(config=True)
    json = Bool(False, help="Print one JSON object instead of a table.").tag(config=True)
    assignment = Unicode(DEFAULT_ASSIGNMENT, help="The assignment the notebook belongs to (or "
                         "mnist_hyperparameters, whose exercise10_run.npz beside the notebook is handed "
                         "in too).").tag(config=True)
    aliases = {**Command.aliases, **LIMIT_ALIASES, "course": "Grade.course_dir",
               "assignment": "Grade.assignment"}
    flags = {**Command.flags, "json": ({"Grade": {"json": True}}, json.help)}
    examples = f"{PROG} grade submission.ipynb --json --timeout=600"

    def course(self) -> Path:
        return Path(self.course_dir).resolve() if self.course_dir else require_template()

    def run(self) -> int:
        from autograder.host.single import grade_notebook

        report = grade_notebook(Path(self.extra_args[0]), self.assignment, self.settings, self.course())
        print(report.to_json() if self.json else "\n".join(report.table()))
        return 0


class GradeAll(Command):
    """Grade every collected submission of a course on a Dask cluster (local by default); exits 1 if
    any could not be graded, 130 when stopped by Ctrl-C (what was graded is recorded)."""

    name = f"{PROG} grade-all"
    arguments, positional = "COURSE", (1, 1)
    assignment = Unicode(DEFAULT_ASSIGNMENT, help="The assignment to grade (or mnist_hyperparameters)."
                         ).tag(config=True)
    students = List(Unicode(), help="Grade only these students (repeat --student, or separate ids with "
                    "commas); empty: all.").tag(config=True)
    only_new = Bool(False, help="Skip submissions graded before and unchanged since (resumes a run "
                    "stopped by Ctrl-C).").tag(config=True)
    report = Unicode("", help="Write student, score, seconds and problems to this file (.csv, or .json)."
                     ).tag(config=True)
    aliases = {**Command.aliases, **LIMIT_ALIASES, **CLUSTER_ALIASES, "assignment": "GradeAll.assignment",
               "student": "GradeAll.students", "report": "GradeAll.report"}
    flags = {**Command.flags, "only-new": ({"GradeAll": {"only_new": True}}, only_new.help)}
    examples = f"{PROG} grade-all . --student alice,bob --report grades.csv --workers 2"

    def course(self) -> Path:
        return Path(self.extra_args[0]).resolve()

    def run(self) -> int:
        from autograder.host.classroom import grade_all
        from autograder.host.doctor import diagnose

        course, settings = self.course(), self.settings
        failed = [f for f in diagnose(course, settings, before_grading=True) if not f.ok]
        if failed:  # before anything is graded or recorded
            raise GradingError("grading cannot work on this machine, nothing was graded:\n"
                               + "\n".join(f.line() for f in failed)
                               + "\n(`mnist-autograder doctor` checks again)")
        students = [s for value in self.students for s in value.split(",") if s]
        summary = grade_all(course, self.assignment, settings, overrides=self.overrides,
                            students=students, only_new=self.only_new)
        print("\n".join(summary.lines()))
        if self.report:
            summary.write(Path(self.report))
            print(f"report: {self.report}")
        if summary.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_NOT_GRADED if summary.failed else 0


class Demo(Command):
    """Grade a demo class end to end with nbgrader's own commands."""

    name = f"{PROG} demo"
    course_dir = Unicode("demo-course", help="The course directory to (re)create.").tag(config=True)
    assignments = List(Unicode(), help="Only these assignments (repeat --assignment for several); "
                       "empty: every one in source/.").tag(config=True)
    aliases = {**Command.aliases, "course": "Demo.course_dir", "assignment": "Demo.assignments"}
    examples = f"{PROG} demo --course demo-course --assignment mnist_batch_size"

    def run(self) -> int:
        from autograder.tools.demo import print_grade_table, run_demo

        course = Path(self.course_dir).resolve()
        print_grade_table(course, run_demo(course, self.assignments or None))
        return 0


class Doctor(Command):
    """Check everything grading needs on this machine (sandbox, no network, MNIST, TensorFlow, exchange,
    gradebook, Dask workers), one line each; exits 1 if something fails."""

    name = f"{PROG} doctor"
    arguments, positional = "[COURSE]", (0, 1)
    examples = f"{PROG} doctor fall-course"

    def course(self) -> Path:
        return Path(self.extra_args[0] if self.extra_args else ".").resolve()

    def run(self) -> int:
        from autograder.host.doctor import diagnose

        findings = diagnose(self.course(), self.settings)
        print("\n".join(f.line() for f in findings))
        ok = all(f.ok for f in findings)
        print("grading can work here" if ok else "grading cannot work here: fix the lines marked ✘")
        return 0 if ok else 1


class RosterImport(Command):
    """Add or update students (id, names, email) in the course's gradebook from a CSV: nbgrader's
    id,first_name,last_name,email or Canvas's gradebook export; exits 2 naming what is wrong."""

    name = f"{PROG} roster import"
    arguments, positional = "FILE", (1, 1)
    course_dir = Unicode(".", help="The course directory.").tag(config=True)
    id_column = Unicode("", help="Canvas's column holding the nbgrader ids (default 'SIS Login ID')."
                        ).tag(config=True)
    aliases = {**Command.aliases, "course": "RosterImport.course_dir", "id-column": "RosterImport.id_column"}
    examples = f"{PROG} roster import canvas-export.csv --course fall-course"

    def course(self) -> Path:
        return Path(self.course_dir).resolve()

    def run(self) -> int:
        from autograder.host.roster import RosterError, import_roster, read_roster
        from autograder.host.settings import db_url

        url = db_url(self.course(), self.config)
        try:
            result = import_roster(url, read_roster(Path(self.extra_args[0]), self.id_column or None))
        except RosterError as exc:
            print(f"roster import: {exc}", file=sys.stderr)
            return 2
        print(f"roster import: {result.line()} in {url}")
        return 0


class Roster(Command):
    """The class roster: import one (mnist-autograder roster import --help)."""

    name = f"{PROG} roster"
    arguments = "import FILE"
    subcommands = {"import": (RosterImport, summary(RosterImport))}

    def initialize(self, argv: list[str] | None = None) -> None:
        self.parse_command_line(list(argv or []))
        if not self.subapp:
            raise ConfigError(f"{self.usage} ({self.name} --help)")

    def initialize_subcommand(self, subc: str, argv: list[str] | None = None) -> None:
        self.subapp = self.subcommands[subc][0](parent=self)
        self.subapp.initialize(argv)

    def run(self) -> int:
        return self.subapp.run()


class FeedbackServiceCommand(Command):
    """Feedback on submit: grade each new submission in the exchange and release its feedback, until
    stopped (c.FeedbackOnSubmit in the course's config)."""

    name = f"{PROG} feedback-service"
    arguments, positional = "[COURSE]", (0, 1)
    once = Bool(False, help="Give the feedback that may run now, then stop.").tag(config=True)
    status = Bool(False, help="Print the queue: waiting, grading, done, failed.").tag(config=True)
    flags = {**Command.flags, "once": ({"FeedbackServiceCommand": {"once": True}}, once.help),
             "status": ({"FeedbackServiceCommand": {"status": True}}, status.help)}
    examples = f"{PROG} feedback-service fall-course --status"

    def course(self) -> Path:
        return Path(self.extra_args[0] if self.extra_args else ".").resolve()

    def run(self) -> int:
        import logging
        import signal
        import threading

        from autograder.host.feedback_service import FeedbackService

        service = FeedbackService(self.course(), self.overrides)
        if self.status:
            for job in service.queue.jobs():
                print(f"{job.state:<8} {job.student:<24} {job.assignment:<24} {job.message}")
            return 0
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        if self.once:
            if not service.settings.enabled:
                raise GradingError("feedback on submit is off for this course: set "
                                   "c.FeedbackOnSubmit.enabled = True in its nbgrader_config.py (or "
                                   "--FeedbackOnSubmit.enabled=True)")
            while service.scan() or service.run_ready():
                pass
            return 0
        stop = threading.Event()
        if os.environ.get("JUPYTERHUB_SERVICE_URL"):  # run by JupyterHub with a URL: the queue's page too
            from autograder.host.feedback_page import serve_page

            threading.Thread(target=service.serve, args=(stop,), name="feedback", daemon=True).start()
            # Stopping first: a batch cut short is left to grade again, not recorded as failed.
            signal.signal(signal.SIGTERM, lambda *_: (stop.set(), sys.exit(0)))
            serve_page(service.queue)
            return 0
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            service.serve(stop)
        except KeyboardInterrupt:
            pass
        return 0


class JupyterConfig(Command):
    """Write a Jupyter config folder for instructors' or students' servers on a hub (nbgrader's
    extensions; no Formgrader for students)."""

    name = f"{PROG} jupyter-config"
    arguments, positional = "FOLDER", (1, 1)
    role = Unicode("", help="Whose servers the folder is for: instructor or student.").tag(config=True)
    aliases = {**Command.aliases, "role": "JupyterConfig.role"}
    examples = f"{PROG} jupyter-config /srv/jupyter/students --role student"

    def run(self) -> int:
        from autograder.tools.lab import write_config

        if self.role not in ROLES:
            raise ConfigError(f"--role={self.role!r} is refused: it must be instructor or student")
        folder = Path(self.extra_args[0])
        write_config(folder, instructor=self.role == "instructor")
        print(f"jupyter-config: {folder} ({self.role}); give it to the {self.role}s' servers as "
              "JUPYTER_CONFIG_PATH")
        return 0


class RemoveSolutions(Command):
    """Delete the source notebooks (solutions, hidden tests) this installation carries, after `init`,
    where students can read the environment."""

    name = f"{PROG} remove-solutions"

    def run(self) -> int:
        from autograder.host.course import PACKAGED

        source = PACKAGED / "source"
        if not source.is_dir():
            print(f"remove-solutions: {PACKAGED} holds no source notebooks (already removed, or a checkout)")
            return 0
        shutil.rmtree(source)
        print(f"remove-solutions: removed {source}; `init` and the demo now need a reinstall")
        return 0


COMMANDS: dict[str, type[Application]] = {
    "init": Init, "grade": Grade, "grade-all": GradeAll, "demo": Demo, "doctor": Doctor, "roster": Roster,
    "feedback-service": FeedbackServiceCommand, "jupyter-config": JupyterConfig, "lab": Lab, "hub": Hub,
    "remove-solutions": RemoveSolutions,
}
