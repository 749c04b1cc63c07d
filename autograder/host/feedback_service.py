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
and the service's log), its student gets that reason as the feedback on it, and the others go
on.  Before the assignment's due date, ``c.FeedbackOnSubmit.scores_before_due = False`` keeps
the points out of the feedback (each check's message stays).
"""

from __future__ import annotations

import datetime
import html
import logging
import re
import threading
from pathlib import Path

from traitlets.config import Config

from autograder.host.autograde import nbgrader_failure
from autograder.host.classroom import grade_all
from autograder.host.course import GradingError
from autograder.host.exchange import Refused, read_regular, student_id_problem
from autograder.host.feedback_queue import FeedbackQueue, Job, inbound_parts, stamp
from autograder.host.settings import FeedbackOnSubmit, course_config, db_url, exchange_root

QUEUE_FILE = Path(".feedback") / "queue.sqlite"
IDLE_SECONDS = 30.0  # switched off: how often to look whether the instructor switched it on
log = logging.getLogger("mnist-autograder.feedback")
# The points in a feedback page: nbgrader's template's "(Score: 2.0 / 3.0)" and "Score: 2.0 / 3.0"
# (in macros a child template cannot replace, so they are cut from the page), and the lines the
# course's checks print (autograder.grading: "architecture: 3 / 3 points", "  ✔ ... (0.5)").
SCORES = [(re.compile(r" ?\(Score: -?[\d.]+(?: / [\d.]+)?\)"), ""),
          (re.compile(r"Score: [\d.]+ / [\d.]+ ?"), ""),
          (re.compile(r"\b([\w.-]+): [\d.]+ / [\d.]+ points$", re.M), r"\1:"),
          (re.compile(r" \((?:[\d.]+ of )?[\d.]+\)$", re.M), "")]


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
        self.stopping = threading.Event()  # set when the service stops: runs cut short are not recorded

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
            if self.stopping.is_set():
                return
            for job, graded in collected.values():
                self._failed(job, exc, graded)
            return
        if self.stopping.is_set():  # cut short by a stop: they stay grading, to wait again after a restart
            return
        outcomes = {outcome.student: outcome for outcome in summary.outcomes}
        for student, (job, graded) in collected.items():
            outcome = outcomes.get(student)
            try:
                if outcome is None or outcome.failed or outcome.report is None:
                    raise GradingError("; ".join(outcome.problems) if outcome else "not graded")
                self._nbgrader("generate_feedback", self.api.generate_feedback(assignment, student))
                if not self.scores_shown(assignment):
                    self._without_scores(assignment, student)
                self._nbgrader("release_feedback", self.api.release_feedback(assignment, student))
            except Exception as exc:
                if outcome is not None and outcome.problems:  # what grading found says more than nbgrader
                    log.error("nbgrader on %s's %s: %s", student, assignment, exc)
                    exc = GradingError("; ".join(outcome.problems))
                self._failed(job, exc, graded)
            else:
                score = f"{outcome.report.score:g} / {outcome.report.max_score:g}"
                log.info("feedback released: %s, %s, %s, submitted %s", student, assignment, score, graded)
                self.queue.finish(job, True, score, graded=graded)

    def scores_shown(self, assignment: str) -> bool:
        """Whether feedback shows points now: always, or once the due date (the gradebook's) has passed."""
        if self.settings.scores_before_due:
            return True
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            due = gb.find_assignment(assignment).duedate  # naive UTC, as nbgrader keeps it
        return due is None or datetime.datetime.now(datetime.UTC).replace(tzinfo=None) >= due

    def _without_scores(self, assignment: str, student: str) -> None:
        """Cut the points out of ``student``'s generated feedback pages; each check's message stays."""
        for page in (self.course / "feedback" / student / assignment).glob("*.html"):
            text = page.read_text(encoding="utf-8")
            for pattern, replacement in SCORES:
                text = pattern.sub(replacement, text)
            page.write_text(text, encoding="utf-8")

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
        """Mark ``job`` failed, and tell its student why in the feedback on that submission."""
        log.error("no feedback for %s on %s: %s", job.student, job.assignment, exc)
        self.queue.finish(job, False, f"not graded: {exc}", graded=graded)
        try:
            self._release_message(job, str(exc))
        except Exception as told:  # the queue and the log have the reason; the student gets it next time
            log.error("could not tell %s why (%s)", job.student, told)

    def _release_message(self, job: Job, reason: str) -> None:
        """Release, as the feedback on ``job``'s submission, a page saying it could not be graded and why.

        nbgrader finds a student's feedback by the submission's secret and notebook names, so the
        page goes where ``generate_feedback`` puts pages, with the secret and time stamp of the
        inbound folder (read without following links), and nbgrader's release sends it.
        """
        from nbgrader.api import Gradebook

        inbound = self.exchange / self.course_id / "inbound" / job.submitted
        try:
            secret = read_regular(str(inbound / "submission_secret.txt"))[0].decode()
            timestamp = read_regular(str(inbound / "timestamp.txt"))[0].decode()
        except (Refused, OSError) as exc:
            raise GradingError(f"its submission has no readable secret and time stamp ({exc})") from exc
        with Gradebook(self.db_url) as gb:
            notebooks = [nb.name for nb in gb.find_assignment(job.assignment).notebooks]
        folder = self.course / "feedback" / job.student / job.assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "submission_secret.txt").write_text(secret)
        (folder / "timestamp.txt").write_text(timestamp)
        page = message_page(job.assignment, timestamp, self.for_students(reason))
        for notebook in notebooks:
            (folder / f"{notebook}.html").write_text(page, encoding="utf-8")
        self._nbgrader("release_feedback", self.api.release_feedback(job.assignment, job.student))
        log.info("told %s why their submission of %s was not graded", job.student, job.assignment)

    def for_students(self, reason: str) -> str:
        """``reason`` without the instructor's folders (the course's, the exchange's, the home's)."""
        for root, shown in ((self.course, "<course>"), (self.exchange, "<exchange>"), (Path.home(), "~")):
            if root.resolve() == root.resolve().parent:  # a home of "/" would turn every slash into "~"
                continue
            reason = reason.replace(str(root.resolve()), shown).replace(str(root), shown)
        return reason

    @staticmethod
    def _nbgrader(step: str, answer: dict) -> None:
        """GradingError with nbgrader's last error line when an ``NbGraderAPI`` call did not succeed."""
        failure = nbgrader_failure(step, answer)
        if failure:
            raise GradingError(failure)
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
        self.stopping = stop
        while not stop.is_set():
            if not self.switched_on():
                stop.wait(max(self.settings.poll_seconds, IDLE_SECONDS))
                continue
            self.scan()
            if not self.run_ready():
                stop.wait(self.settings.poll_seconds)


def message_page(assignment: str, submitted: str, reason: str) -> str:
    """The feedback page a student gets when their submission could not be graded."""
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Not graded</title></head><body>"
            f"<h1>{html.escape(assignment)}: not graded</h1>"
            f"<p>Your submission of {html.escape(submitted)} could not be graded automatically:</p>"
            f"<pre id='reason'>{html.escape(reason)}</pre><p>Your instructor sees this too. Fix what it "
            "says and submit again; if it makes no sense to you, ask your instructor.</p></body></html>")
