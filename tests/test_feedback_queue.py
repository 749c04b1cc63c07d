"""The feedback-on-submit queue's rules: newest replaces waiting, a daily limit, nothing lost on restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.host.feedback_queue import DAY, FeedbackQueue

T0 = 1_800_000_000.0


def inbound(student: str, assignment: str, second: int) -> str:
    """An inbound folder name as nbgrader's submit makes it (UTC time stamp, then a random part)."""
    return f"{student}+{assignment}+2027-01-15 10:00:{second:02d}.000000 UTC+abc{second}"


@pytest.fixture
def queue(tmp_path: Path) -> FeedbackQueue:
    return FeedbackQueue(tmp_path / ".feedback" / "queue.sqlite", runs_per_day=2)


def test_a_newer_submission_replaces_the_one_still_waiting_and_an_older_one_changes_nothing(queue):
    assert queue.saw("ada", "a1", inbound("ada", "a1", 1), now=T0)
    assert queue.saw("ada", "a1", inbound("ada", "a1", 5), now=T0 + 1)
    assert not queue.saw("ada", "a1", inbound("ada", "a1", 3), now=T0 + 2)
    assert not queue.saw("ada", "a1", inbound("ada", "a1", 5), now=T0 + 3)
    (job,) = queue.jobs()
    assert (job.state, job.submitted) == ("waiting", inbound("ada", "a1", 5))
    taken = queue.take(now=T0 + 4)
    assert taken.submitted == inbound("ada", "a1", 5) and queue.take(now=T0 + 4) is None


def test_the_longest_waiting_goes_first_and_each_student_and_assignment_is_its_own_row(queue):
    queue.saw("bob", "a1", inbound("bob", "a1", 2), now=T0)
    queue.saw("ada", "a1", inbound("ada", "a1", 1), now=T0 + 1)
    queue.saw("ada", "a2", inbound("ada", "a2", 1), now=T0 + 2)
    order = [queue.take(now=T0 + 3) for _ in range(3)]
    assert [(j.student, j.assignment) for j in order] == [("bob", "a1"), ("ada", "a1"), ("ada", "a2")]


def test_at_most_runs_per_day_start_and_a_later_submission_waits_until_the_day_has_passed(queue):
    for second in (1, 2, 3):
        queue.saw("ada", "a1", inbound("ada", "a1", second), now=T0 + second)
        job = queue.take(now=T0 + second)
        if second < 3:
            queue.finish(job, True, "7 / 10", now=T0 + second)
    assert job is None  # the third run in a day waits
    (row,) = queue.jobs()
    assert row.state == "waiting" and row.submitted == inbound("ada", "a1", 3)
    assert queue.take(now=T0 + 1 + DAY - 1) is None
    assert queue.take(now=T0 + 1 + DAY + 1).submitted == inbound("ada", "a1", 3)


def test_a_submission_seen_while_its_student_is_graded_waits_for_its_own_run(queue):
    queue.saw("ada", "a1", inbound("ada", "a1", 1), now=T0)
    job = queue.take(now=T0)
    assert queue.saw("ada", "a1", inbound("ada", "a1", 9), now=T0 + 1)
    assert queue.jobs()[0].state == "grading"
    queue.finish(job, True, "5 / 10", now=T0 + 2)
    (row,) = queue.jobs()
    assert (row.state, row.graded) == ("waiting", "2027-01-15 10:00:01.000000 UTC")
    assert queue.take(now=T0 + 3).submitted == inbound("ada", "a1", 9)


def test_a_restart_mid_grading_grades_that_submission_again_and_skips_nothing(tmp_path: Path):
    path = tmp_path / "queue.sqlite"
    first = FeedbackQueue(path)
    for student in ("ada", "bob"):
        first.saw(student, "a1", inbound(student, "a1", 1), now=T0)
    first.finish(first.take(now=T0), True, "10 / 10", now=T0)
    first.take(now=T0 + 1)  # bob's run: the service stops here
    again = FeedbackQueue(path)
    assert {j.student: j.state for j in again.jobs()} == {"ada": "done", "bob": "waiting"}
    assert again.take(now=T0 + 2).student == "bob" and again.take(now=T0 + 2) is None
    assert not again.saw("ada", "a1", inbound("ada", "a1", 1), now=T0 + 3)  # done: not again


def test_a_failed_run_is_kept_with_its_reason_and_a_new_submission_gets_a_new_run(queue):
    queue.saw("ada", "a1", inbound("ada", "a1", 1), now=T0)
    queue.finish(queue.take(now=T0), False, "not graded: the kernel died", now=T0)
    (row,) = queue.jobs()
    assert (row.state, row.message) == ("failed", "not graded: the kernel died")
    assert queue.saw("ada", "a1", inbound("ada", "a1", 2), now=T0 + 1)
    assert queue.take(now=T0 + 1).submitted == inbound("ada", "a1", 2)


def test_the_instructors_page_counts_each_state_and_escapes_what_students_named(queue):
    from autograder.host.feedback_page import render

    queue.saw("ada", "a1", inbound("ada", "a1", 1), now=T0)
    queue.saw("<b>eve</b>", "a1", inbound("<b>eve</b>", "a1", 2), now=T0 + 1)
    queue.finish(queue.take(now=T0 + 2), True, "7 / 10", now=T0 + 30)
    page = render(queue.jobs(), now=T0 + 60)
    assert "1 waiting, 0 grading, 1 done, 0 failed" in page
    assert "<b>eve</b>" not in page and "&lt;b&gt;eve&lt;/b&gt;" in page
    assert "<td>ada</td><td>a1</td><td>done</td><td>60 s ago</td><td>30 s ago</td><td>7 / 10</td>" in page
