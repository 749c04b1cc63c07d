"""Runs on the host, as the instructor: the queue of submissions waiting for feedback on submit.

One row per student and assignment, kept in SQLite in the course (``.feedback/queue.sqlite``), so
it survives a restart of the service or of the hub.  A newer submission replaces the one still
waiting; at most ``runs_per_day`` feedback runs per student and assignment start in any 24 hours
(later submissions wait their turn); a run cut short by a restart waits again, so nothing is
skipped and no feedback is released twice for one submission.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DAY = 24 * 3600.0
STATES = ("waiting", "grading", "done", "failed")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    student TEXT NOT NULL, assignment TEXT NOT NULL,
    submitted TEXT NOT NULL,            -- the newest submission seen (its inbound folder's name)
    state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
    seen REAL NOT NULL, started REAL, finished REAL,
    graded TEXT NOT NULL DEFAULT '',    -- the time stamp of the submission the last run graded
    PRIMARY KEY (student, assignment));
CREATE TABLE IF NOT EXISTS runs (student TEXT NOT NULL, assignment TEXT NOT NULL, started REAL NOT NULL);
"""


@dataclass(frozen=True)
class Job:
    """One student's newest submission of one assignment, and where its feedback stands."""

    student: str
    assignment: str
    submitted: str
    state: str
    message: str
    seen: float
    started: float | None
    finished: float | None
    graded: str


class FeedbackQueue:
    """The queue in ``path`` (made if missing); every method is one transaction."""

    def __init__(self, path: Path, runs_per_day: int = 3):
        self.path, self.runs_per_day = Path(path), runs_per_day
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)
            # A run cut short (the service or the hub stopped mid-grading) waits again.
            db.execute("UPDATE jobs SET state = 'waiting', message = 'waiting again after a restart' "
                       "WHERE state = 'grading'")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level="IMMEDIATE")
        try:
            with db:
                yield db
        finally:
            db.close()

    def saw(self, student: str, assignment: str, submitted: str, now: float | None = None) -> bool:
        """Note a submission found in the exchange; True when it is new (it waits for feedback).

        Inbound folder names end in their UTC time stamp, so a later name is a later submission;
        one already graded, or older than the one waiting, changes nothing.
        """
        now = time.time() if now is None else now
        with self._db() as db:
            row = db.execute("SELECT submitted, state, graded FROM jobs WHERE student = ? AND assignment = ?",
                             (student, assignment)).fetchone()
            if row is None:
                db.execute("INSERT INTO jobs (student, assignment, submitted, state, seen) "
                           "VALUES (?, ?, ?, 'waiting', ?)", (student, assignment, submitted, now))
                return True
            newest, state, graded = row
            if stamp(submitted) <= max(stamp(newest), graded):
                return False
            # Newer: it replaces one still waiting; after a finished run, it waits for its own.
            db.execute("UPDATE jobs SET submitted = ?, seen = ?, state = CASE WHEN state = 'grading' "
                       "THEN 'grading' ELSE 'waiting' END, message = '' WHERE student = ? AND assignment = ?",
                       (submitted, now, student, assignment))
            return True

    def take(self, now: float | None = None) -> Job | None:
        """The submission waiting longest whose student may have a feedback run now, marked grading."""
        now = time.time() if now is None else now
        with self._db() as db:
            for row in db.execute("SELECT * FROM jobs WHERE state = 'waiting' ORDER BY seen").fetchall():
                job = Job(*row)
                runs = db.execute("SELECT COUNT(*) FROM runs WHERE student = ? AND assignment = ? "
                                  "AND started > ?", (job.student, job.assignment, now - DAY)).fetchone()[0]
                if runs >= self.runs_per_day:
                    continue
                db.execute("UPDATE jobs SET state = 'grading', started = ?, message = '' "
                           "WHERE student = ? AND assignment = ?", (now, job.student, job.assignment))
                db.execute("INSERT INTO runs VALUES (?, ?, ?)", (job.student, job.assignment, now))
                return Job(job.student, job.assignment, job.submitted, "grading", "", job.seen, now,
                           job.finished, job.graded)
        return None

    def finish(self, job: Job, ok: bool, message: str = "", now: float | None = None,
               graded: str | None = None) -> None:
        """Record how ``job``'s run ended; a submission newer than the one graded waits for its own run.

        ``graded`` is the time stamp of the submission the run collected (default: the job's; a
        collect may find a newer one than the job knew of).
        """
        now = time.time() if now is None else now
        graded = graded or stamp(job.submitted)
        with self._db() as db:
            newest = db.execute("SELECT submitted FROM jobs WHERE student = ? AND assignment = ?",
                                (job.student, job.assignment)).fetchone()[0]
            state = "waiting" if stamp(newest) > graded else ("done" if ok else "failed")
            db.execute("UPDATE jobs SET state = ?, message = ?, finished = ?, graded = ? "
                       "WHERE student = ? AND assignment = ?",
                       (state, message, now, graded, job.student, job.assignment))

    def jobs(self) -> list[Job]:
        """Every student's row, the longest waiting first."""
        with self._db() as db:
            return [Job(*row) for row in db.execute("SELECT * FROM jobs ORDER BY seen").fetchall()]


def inbound_parts(inbound_name: str) -> tuple[str, str, str] | None:
    """(student, assignment, time stamp) of an inbound folder name, STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM.

    Split from the right, as nbgrader's collect does, so a student id may hold a '+'.
    """
    parts = inbound_name.rsplit("+", 3)
    return (parts[0], parts[1], parts[2]) if len(parts) == 4 else None


def stamp(inbound_name: str) -> str:
    """The sortable time stamp of an inbound folder name ('' when it is not one)."""
    parts = inbound_parts(inbound_name)
    return parts[2] if parts else ""
