"""Runs on the host, in the one process that collects: record a worker's result in the real course.

nbgrader itself records it: its ``Autograde`` runs in this process on the student's submitted
folder with the course's own pipeline, where :class:`~autograder.host.preprocessors.ReplayGraded`
puts in the notebook the worker graded instead of running it again, so ``SaveAutoGrades`` and
``AssignLatePenalties`` write the gradebook and ``autograded/`` exactly as the Formgrader's
button would.  Beside the autograded notebook go ``grading.log`` (the worker's nbgrader log
and what happened) and ``grading.json`` (what ``grade-all --only-new`` compares).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import weakref
from pathlib import Path

from traitlets.config import Config

from autograder.host.autograde import autograde_here, read_outcome, record_zeros
from autograder.host.course import GradingError
from autograder.host.preprocessors import replay_pipeline
from autograder.host.report import Outcome
from autograder.host.task import TaskResult, fingerprint, submission_files

LOG_NAME = "grading.log"
RECORD_NAME = "grading.json"


class Recorder:
    """Records results in ``course`` one at a time, with nbgrader's API (as the Formgrader does)."""

    def __init__(self, course: Path, config: Config, db_url: str, assignment: str, notebooks: list[str]):
        from nbgrader.coursedir import CourseDirectory

        self.course, self.db_url, self.assignment, self.notebooks = course, db_url, assignment, notebooks
        self.graded_dir = Path(tempfile.mkdtemp(prefix="graded-"))
        weakref.finalize(self, shutil.rmtree, self.graded_dir, True)  # removed with the recorder
        try:
            replayed = replay_pipeline(list(config.Autograde.get("autograde_preprocessors", [])))
        except ValueError as exc:
            raise GradingError(f"{course / 'nbgrader_config.py'}: {exc}") from exc
        self.config = Config(config)
        self.config.merge(Config({
            "CourseDirectory": {"root": str(course), "db_url": db_url},
            "Autograde": {"autograde_preprocessors": replayed},
            "ReplayGraded": {"graded_dir": str(self.graded_dir)},
        }))
        self.ignore = list(CourseDirectory(config=self.config).ignore)

    def fingerprint_now(self, student: str) -> str:
        """The fingerprint of ``student``'s submitted folder as it is on disk now."""
        return fingerprint(submission_files(self.folder(student), self.ignore))

    def folder(self, student: str) -> Path:
        return self.course / "submitted" / student / self.assignment

    def autograded(self, student: str) -> Path:
        return self.course / "autograded" / student / self.assignment

    def record(self, result: TaskResult) -> Outcome:
        """Write ``result`` into the gradebook and ``autograded/``; the student's Outcome as recorded."""
        student, notes, failed, log = result.student, list(result.notes), False, ""
        if self.fingerprint_now(student) != result.fingerprint:
            notes.append("the submission changed while it was being graded (collected again?): nothing "
                         "recorded; grade it again (grade-all --only-new)")
            failed = True
        elif not result.gradable:
            record_zeros(self.db_url, self.assignment, student, self.folder(student))
        elif result.failure:  # the gradebook keeps what it had; the report says why
            notes.append(result.failure)
            failed = True
        else:
            failure, log = self._replay(result)
            if failure:
                notes.append(failure)
                failed = True
        outcome = read_outcome(self.course, self.db_url, self.assignment, student, self.notebooks, notes)
        outcome.seconds, outcome.worker, outcome.failed = result.seconds, result.worker, failed
        self.write_logs(outcome, result.fingerprint, result.log + log)
        return outcome

    def _replay(self, result: TaskResult) -> tuple[str | None, str]:
        """nbgrader's Autograde of the submitted folder, with the worker's graded notebooks put in."""
        folder = self.graded_dir / result.student
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in result.graded.items():
            (folder / f"{name}.ipynb").write_text(text)
        try:
            failure, log = autograde_here(self.config, self.assignment, result.student)
        finally:
            for path in folder.glob("*.ipynb"):
                path.unlink()
        return (f"recording the grades failed: {failure}" if failure else None), log

    def write_logs(self, outcome: Outcome, submitted: str, log: str) -> None:
        """``grading.log`` and ``grading.json`` beside the autograded notebook (nbgrader ignores both)."""
        folder = self.autograded(outcome.student)
        folder.mkdir(parents=True, exist_ok=True)
        record = {**outcome.row(), "assignment": self.assignment, "fingerprint": submitted,
                  "problems": outcome.problems, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (folder / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n")
        head = [f"{key}: {value}" for key, value in record.items() if key != "problems"]
        head += [f"problem: {p}" for p in outcome.problems]
        (folder / LOG_NAME).write_text("\n".join(head) + "\n\n" + log)


def already_graded(autograded: Path, submitted_fingerprint: str) -> bool:
    """True when ``autograded`` holds a successful grading of exactly this submission."""
    try:
        record = json.loads((autograded / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return False
    return record.get("fingerprint") == submitted_fingerprint and not record.get("failed", True)
