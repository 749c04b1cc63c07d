"""Runs on the host, as the instructor: feedback minutes after a student submits.

``mnist-autograder feedback-service COURSE`` looks at nbgrader's exchange every
``FeedbackOnSubmit.poll_seconds`` and notes each new submission in the course's queue
(:mod:`autograder.host.feedback_queue`).  Then it takes every submission that may run now and,
with the Formgrader's own ``NbGraderAPI`` in this process, collects each with the course's safe
collect, grades them together, safely, on the course's Dask cluster (:func:`grade_all`: one
cluster for the batch, so a deadline rush is graded in parallel), and generates and releases
each student's feedback, which appears under *Fetch Feedback* in their Assignment List.  The
gradebook gets what nbgrader's autograde writes; grades and comments given by hand stay.  A
submission that cannot be collected or graded is marked failed with the reason (in the queue,
and the service's log), and the others go on.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from traitlets.config import Config

from autograder.host.classroom import grade_all
from autograder.host.course import GradingError
from autograder.host.exchange import student_id_problem
from autograder.host.feedback_queue import FeedbackQueue, Job, inbound_parts, stamp
from autograder.host.settings import FeedbackOnSubmit, course_config, db_url, exchange_root

QUEUE_FILE = Path(".feedback") / "queue.sqlite"
IDLE_SECONDS = 30.0  # switched off: how often to look whether the instructor switched it on
log = logging.getLogger("mnist-autograder.feedback")


class FeedbackService:
    """Feedback on submit for one course: its settings, exchange, queue and nbgrader's API."""

    def __init__(self, course: Path, overrides: Config | None = None):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.course, self.overrides = Path(course).resolve(), overrides
        self.config = course_config(self.course, overrides)
        self.config.CourseDirectory.root = str(self.course)
        self.settings = FeedbackOnSubmit(config=self.config)
        self.course_id = self.config.CourseDirectory.get("course_id", "")
        self.exchange = exchange_root(self.course, self.config)
        if self.exchange is None or not self.course_id:
            raise GradingError(f"{self.course / 'nbgrader_config.py'} names no exchange (c.Exchange.root) "
                               "or no course id (c.CourseDirectory.course_id): feedback on submit needs both")
        self.db_url = db_url(self.course, self.config)
        self.queue = FeedbackQueue(self.course / QUEUE_FILE, self.settings.runs_per_day)
        self.api = NbGraderAPI(CourseDirectory(config=self.config), config=self.config)
        self._announced = False  # whether the log said if the service is on

    def assignments(self) -> set[str]:
        """The assignments that get feedback on submit (default: every one in the gradebook)."""
        if self.settings.assignments:
            return set(self.settings.assignments)
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            return {a.name for a in gb.assignments}

    def scan(self) -> int:
        """Note every new submission in the exchange's inbound folder; how many were new."""
        inbound = self.exchange / self.course_id / "inbound"
        if not inbound.is_dir():
            return 0
        wanted, new = self.assignments(), 0
        for entry in sorted(inbound.iterdir()):
            parts = inbound_parts(entry.name)
            if parts is None or parts[1] not in wanted or student_id_problem(parts[0]):
                continue  # not for this service (collect refuses, and logs, odd names itself)
            new += self.queue.saw(parts[0], parts[1], entry.name)
        return new

    def run_ready(self) -> list[Job]:
        """Give feedback on every submission that may run now, one grading run per assignment; those jobs."""
        jobs = []
        while (job := self.queue.take()) is not None:
            jobs.append(job)
        for assignment in sorted({job.assignment for job in jobs}):
            self._batch(assignment, [job for job in jobs if job.assignment == assignment])
        return jobs

    def _batch(self, assignment: str, jobs: list[Job]) -> None:
        """Collect, grade and give feedback on ``jobs``; each failure is that job's alone."""
        collected: dict[str, tuple[Job, str]] = {}
        for job in jobs:
            try:
                collected[job.student] = (job, self._collect(job))
            except Exception as exc:  # this one cannot be collected: the others go on
                self._failed(job, exc)
        if not collected:
            return
        try:
            summary = grade_all(self.course, assignment, students=sorted(collected), progress=False)
        except Exception as exc:
            for job, graded in collected.values():
                self._failed(job, exc, graded)
            return
        outcomes = {outcome.student: outcome for outcome in summary.outcomes}
        for student, (job, graded) in collected.items():
            outcome = outcomes.get(student)
            try:
                if outcome is None or outcome.failed or outcome.report is None:
                    raise GradingError("; ".join(outcome.problems) if outcome else "not graded")
                self._nbgrader("generate_feedback", self.api.generate_feedback(assignment, student))
                self._nbgrader("release_feedback", self.api.release_feedback(assignment, student))
            except Exception as exc:
                self._failed(job, exc, graded)
            else:
                score = f"{outcome.report.score:g} / {outcome.report.max_score:g}"
                log.info("feedback released: %s, %s, %s", student, assignment, score)
                self.queue.finish(job, True, score, graded=graded)

    def _collect(self, job: Job) -> str:
        """Collect ``job``'s student's newest submission (nbgrader's collect --update); its time stamp."""
        from nbgrader.utils import temp_attrs

        with temp_attrs(self.api.coursedir, student_id=job.student):
            self._nbgrader("collect", self.api.collect(job.assignment, update=True))
        timestamp = self.course / "submitted" / job.student / job.assignment / "timestamp.txt"
        collected = timestamp.read_text().strip() if timestamp.is_file() else ""
        if collected < stamp(job.submitted):
            raise GradingError("the submission could not be collected (the safe collect refused it: "
                               "the service's log says why); submit again")
        return collected

    def _failed(self, job: Job, exc: BaseException, graded: str | None = None) -> None:
        log.error("no feedback for %s on %s: %s", job.student, job.assignment, exc)
        self.queue.finish(job, False, f"not graded: {exc}", graded=graded)

    @staticmethod
    def _nbgrader(step: str, answer: dict) -> None:
        """GradingError with nbgrader's last error line when an ``NbGraderAPI`` call did not succeed."""
        if not answer.get("success"):
            lines = (answer.get("log") or answer.get("error") or "?").strip().splitlines()
            errors = [line for line in lines if "ERROR" in line or "Error" in line] or lines
            raise GradingError(f"nbgrader {step} failed: {errors[-1].strip()[:300]}")
        for line in (answer.get("log") or "").splitlines():
            if "ERROR" in line:  # the safe collect refuses a submission with an ERROR, and succeeds
                log.error("nbgrader %s: %s", step, line)

    def switched_on(self) -> bool:
        """``FeedbackOnSubmit.enabled`` as the course's config says now (the instructor may change it)."""
        was = self.settings.enabled
        try:
            self.settings = FeedbackOnSubmit(config=course_config(self.course, self.overrides))
        except Exception as exc:  # a config being edited: keep the last good settings
            log.warning("the course's config could not be read (%s); keeping the last settings", exc)
        if self.settings.enabled != was or not self._announced:
            self._announced = True
            log.info("feedback on submit is %s for %s (c.FeedbackOnSubmit.enabled)",
                     "on" if self.settings.enabled else "off", self.course)
        return self.settings.enabled

    def serve(self, stop: threading.Event) -> None:
        """Look for submissions and give feedback until ``stop`` is set, while the course switches it on."""
        while not stop.is_set():
            if not self.switched_on():
                stop.wait(max(self.settings.poll_seconds, IDLE_SECONDS))
                continue
            self.scan()
            if not self.run_ready():
                stop.wait(self.settings.poll_seconds)
