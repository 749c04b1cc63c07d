"""Feedback on submit, on a real course and exchange: nbgrader's own submit, collect, autograde, feedback.

A student submits twice in a row and gets one feedback, for her newest; the instructor's hand-given
grade and comment survive the automatic regrade of a later submission; a submission the safe
collect refuses, or one that cannot be graded, is marked failed and its student gets the reason
as feedback, holding up no one; a service restarted finds its queue as it was; before the due
date, the instructor's switch keeps points out of the feedback and each check's message in it.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.host.course import make_course, nbgrader_env, run_nbgrader

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

ASSIGNMENT = "mnist_batch_size"
COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
WRITTEN = "exercise6_answer"


class Classroom:
    """A course with feedback on submit switched on, its exchange, and students who use nbgrader."""

    def __init__(self, root: Path):
        self.root, self.course, self.exchange = root, root / "course", root / "exchange"

    def student(self, name: str) -> list[str]:
        return [f"--course={COURSE_ID}", f"--Exchange.root={self.exchange}",
                "--Exchange.path_includes_course=True", f"--Exchange.cache={self.root / (name + '-cache')}",
                f"--CourseDirectory.student_id={name}", f"--CourseDirectory.root={self.root / name}"]

    def nbgrader_as(self, name: str, *args: str) -> None:
        (self.root / name).mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "nbgrader", *args, *self.student(name)], cwd=self.root / name,
                       env=nbgrader_env(), check=True, capture_output=True, timeout=300)

    def submit(self, name: str, answer: str) -> None:
        """``name`` writes ``answer`` as her written answer in the released notebook, and submits it."""
        work = self.root / name / COURSE_ID / ASSIGNMENT
        work.mkdir(parents=True, exist_ok=True)
        release = (self.course / "release" / ASSIGNMENT / NOTEBOOK).read_text()
        (work / NOTEBOOK).write_text(release.replace("YOUR ANSWER HERE", answer, 1))
        self.nbgrader_as(name, "submit", ASSIGNMENT)
        time.sleep(1.1)  # nbgrader's time stamps: each submission its own

    def feedback(self, name: str) -> str:
        self.nbgrader_as(name, "fetch_feedback", ASSIGNMENT)
        found = sorted((self.root / name / COURSE_ID / ASSIGNMENT / "feedback").rglob("*.html"))
        return found[-1].read_text() if found else ""


@pytest.fixture
def classroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Classroom:
    room = Classroom(tmp_path)
    room.exchange.mkdir(mode=0o1777)
    monkeypatch.setenv("NBGRADER_EXCHANGE", os.fspath(room.exchange))
    make_course(room.course, ASSIGNMENT)
    with (room.course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.FeedbackOnSubmit.enabled = True\nc.SafeGrading.workers = 1\n")
    run_nbgrader(room.course, "release_assignment", ASSIGNMENT)
    return room


def test_two_quick_submissions_get_one_feedback_for_the_newest_and_hand_grades_survive(classroom):
    from nbgrader.api import Gradebook

    from autograder.host.feedback_service import FeedbackService

    classroom.submit("ada", "My first thought.")
    classroom.submit("ada", "My second, better thought.")
    service = FeedbackService(classroom.course)
    assert service.scan() == 2 and len(service.queue.jobs()) == 1  # one student: her newest waits
    assert len(service.run_ready()) == 1 and service.run_ready() == []
    (row,) = service.queue.jobs()
    assert row.state == "done" and row.message.startswith("0 / "), row
    page = classroom.feedback("ada")
    assert "My second, better thought." in page and "My first thought." not in page

    url = f"sqlite:///{classroom.course / 'gradebook.db'}"
    with Gradebook(url) as gb:  # the instructor grades the written answer by hand
        grade = gb.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, "ada")
        grade.manual_score = 2
        comment = gb.find_comment(WRITTEN, ASSIGNMENT, ASSIGNMENT, "ada")
        comment.manual_comment = "Good: fewer updates per epoch."
        gb.db.commit()
    classroom.submit("ada", "My third thought.")
    again = FeedbackService(classroom.course)  # a restarted service: the queue is as it was
    assert [j.state for j in again.queue.jobs()] == ["done"]
    assert again.scan() == 1 and len(again.run_ready()) == 1
    with Gradebook(url) as gb:
        assert gb.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, "ada").manual_score == 2
        assert gb.find_comment(WRITTEN, ASSIGNMENT, ASSIGNMENT, "ada").manual_comment == (
            "Good: fewer updates per epoch.")
    assert "My third thought." in classroom.feedback("ada")


def test_a_submission_the_safe_collect_refuses_fails_with_its_reason_and_holds_up_no_one(classroom):
    from autograder.host.feedback_service import FeedbackService

    classroom.submit("mallory", "Mine.")
    (inbound,) = (classroom.exchange / COURSE_ID / "inbound").iterdir()
    (inbound / "secrets").symlink_to(classroom.course / "gradebook.db")  # a link to the instructor's files
    classroom.submit("ada", "Ada's answer.")
    service = FeedbackService(classroom.course)
    assert service.scan() == 2
    assert len(service.run_ready()) == 2  # one grading run: ada's; mallory's fails at collect
    states = {j.student: (j.state, j.message) for j in service.queue.jobs()}
    assert states["ada"][0] == "done", states
    assert states["mallory"][0] == "failed" and "could not be collected" in states["mallory"][1], states
    told = classroom.feedback("mallory")  # her feedback on that submission says why, and what to do
    assert "not graded" in told and "could not be collected" in told and "submit again" in told, told


def test_a_submission_that_cannot_be_graded_tells_its_student_why_and_holds_up_no_one(classroom):
    from autograder.host.feedback_service import FeedbackService

    classroom.submit("ada", "Ada's answer.")
    work = classroom.root / "bob" / COURSE_ID / ASSIGNMENT
    work.mkdir(parents=True)
    (work / NOTEBOOK).write_text("{ this is not a notebook")  # saved half-way, say
    classroom.nbgrader_as("bob", "submit", ASSIGNMENT)
    service = FeedbackService(classroom.course)
    assert service.scan() == 2 and len(service.run_ready()) == 2
    states = {j.student: j.state for j in service.queue.jobs()}
    assert states == {"ada": "done", "bob": "failed"}, service.queue.jobs()
    told = classroom.feedback("bob")
    assert "not graded" in told and "submit again" in told, told
    assert "is not a readable Jupyter notebook" in told, told  # what grading found, not nbgrader's error
    assert str(classroom.root) not in told, told  # and without the instructor's folders
    assert "Ada's answer." in classroom.feedback("ada")


POINTS = re.compile(r"Score: |\d / \d+ points|\((?:[\d.]+ of )?[\d.]+\)\n")


def test_before_the_due_date_feedback_shows_each_checks_message_without_points(classroom):
    from nbgrader.api import Gradebook

    from autograder.host.feedback_service import FeedbackService

    with (classroom.course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.FeedbackOnSubmit.scores_before_due = False\n")
    url = f"sqlite:///{classroom.course / 'gradebook.db'}"
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    with Gradebook(url) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=now + datetime.timedelta(days=7))
    classroom.submit("ada", "Before the due date.")
    service = FeedbackService(classroom.course)
    service.scan()
    service.run_ready()
    page = classroom.feedback("ada")
    assert "Before the due date." in page and "\u2718" in page, page[:2000]  # each check's ✘ and message
    assert not POINTS.search(page), POINTS.search(page)

    with Gradebook(url) as gb:  # the due date passes: points are shown again
        gb.update_or_create_assignment(ASSIGNMENT, duedate=now - datetime.timedelta(minutes=1))
    classroom.submit("ada", "After the due date.")
    service.scan()
    service.run_ready()
    page = classroom.feedback("ada")
    assert "After the due date." in page and "Score: " in page and re.search(r"\d / \d+ points", page)
