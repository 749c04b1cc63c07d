"""The instructor's switches for feedback on submit, read from the course's config (no grading here)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from autograder.host.course import TEMPLATE, own_config

INBOUND_NAME = "{student}+{assignment}+2027-01-15 10:00:0{n}.000000 UTC+r{n}"


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course (the template's config) with its own exchange; feedback on submit for one assignment."""
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("NBGRADER_EXCHANGE", os.fspath(exchange))
    course = tmp_path / "course"
    course.mkdir()
    config = own_config((TEMPLATE / "nbgrader_config.py").read_text())
    switches = ("\nc.FeedbackOnSubmit.assignments = ['mnist_batch_size']"
                "\nc.FeedbackOnSubmit.poll_seconds = 0.5\n")
    (course / "nbgrader_config.py").write_text(config + switches)
    (exchange / "mnist-batch-size" / "inbound").mkdir(parents=True)
    return course


def handed_in(course: Path, student: str, assignment: str = "mnist_batch_size", n: int = 1) -> None:
    inbound = Path(os.environ["NBGRADER_EXCHANGE"]) / "mnist-batch-size" / "inbound"
    (inbound / INBOUND_NAME.format(student=student, assignment=assignment, n=n)).mkdir()


def test_switched_off_the_service_takes_nothing_and_starts_when_the_course_switches_it_on(course,
                                                                                        monkeypatch):
    from autograder.host import feedback_service
    from autograder.host.feedback_service import FeedbackService

    monkeypatch.setattr(feedback_service, "IDLE_SECONDS", 0.2)
    handed_in(course, "ada")
    service = FeedbackService(course)
    assert not service.settings.enabled  # the course's default
    taken: list = []
    monkeypatch.setattr(service, "run_ready", lambda: taken.append(service.queue.take()) or [])
    stop = threading.Event()
    worker = threading.Thread(target=service.serve, args=(stop,))
    worker.start()
    stop.wait(1.0)
    assert service.queue.jobs() == [] and taken == []  # off: not even looked at
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.FeedbackOnSubmit.enabled = True\n")
    for _ in range(50):
        if taken:
            break
        stop.wait(0.1)
    stop.set()
    worker.join(5)
    assert [job.student for job in taken if job] == ["ada"]


def test_only_the_assignments_the_course_names_and_plain_student_ids_are_queued(course):
    from autograder.host.feedback_service import FeedbackService

    handed_in(course, "ada")
    handed_in(course, "ada", assignment="my_own_quiz")
    handed_in(course, "..", n=2)  # an id no collect would take: left to the safe collect, which logs it
    service = FeedbackService(course)
    assert service.scan() == 1
    assert [(j.student, j.assignment) for j in service.queue.jobs()] == [("ada", "mnist_batch_size")]


def test_a_course_without_an_exchange_is_told_what_feedback_on_submit_needs(tmp_path: Path, monkeypatch):
    from autograder.host.course import GradingError
    from autograder.host.feedback_service import FeedbackService

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'x'\n")
    with pytest.raises(GradingError, match="names no exchange"):
        FeedbackService(course)


def test_a_reason_told_to_a_student_names_none_of_the_instructors_folders(course):
    from autograder.host.feedback_service import FeedbackService

    service = FeedbackService(course)
    told = service.for_students(f"no notebook matched by '{course}/autograded/ada' (exchange "
                                f"{service.exchange}, log in {Path.home()}/grading.log)")
    assert str(course) not in told and str(service.exchange) not in told and str(Path.home()) not in told
    assert told == ("no notebook matched by '<course>/autograded/ada' (exchange <exchange>, "
                    "log in ~/grading.log)")


def test_a_home_folder_of_slash_leaves_the_other_paths_in_a_reason_as_they_are(course, monkeypatch):
    from autograder.host.feedback_service import FeedbackService

    service = FeedbackService(course)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/")))
    told = service.for_students(f"no notebook in {course}/autograded/ada; see /var/log/grading.log")
    assert told == "no notebook in <course>/autograded/ada; see /var/log/grading.log"
