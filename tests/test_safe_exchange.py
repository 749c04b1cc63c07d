"""nbgrader's exchange made safe (autograder/host/exchange.py): no link in inbound/ or feedback/ is followed.

Each test builds a real course (``make_course``: this repository's nbgrader_config.py, no kernel)
and exchange, releases the assignment with nbgrader, puts submissions in ``inbound/`` as
``nbgrader submit`` lays them out (the honest one made by a real ``nbgrader submit``), and runs
nbgrader's real ``collect`` / ``release_feedback`` / ``fetch_feedback`` commands, which the
course's config points at the safe classes.  An attack is refused with an ERROR naming the
student and why, the honest student beside it is collected byte for byte, and the course's
source/, release/, config and gradebook are untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from autograder.host import exchange
from autograder.host.course import make_course, nbgrader_env, run_nbgrader

ASSIGNMENT = "mnist_batch_size"
COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
HONEST = "ada"
ATTACKER = "mallory"


def digests(*roots: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under (or at) ``roots``, links not followed."""
    found = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if not p.is_dir())
        for path in paths:
            found[str(path)] = (f"link to {os.readlink(path)}" if path.is_symlink()
                                else hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def files_of(folder: Path) -> dict[str, bytes]:
    """relative path -> bytes of every regular file under ``folder`` (a link is a failure)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        assert not path.is_symlink(), f"{path} is a link"
        if path.is_file():
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


@dataclass
class Classroom:
    """A throwaway course and its exchange, with the assignment released."""

    course: Path
    exchange: Path
    honest_submission: Path  # a folder `nbgrader submit` made for HONEST (outside the exchange)

    @property
    def inbound(self) -> Path:
        return self.exchange / COURSE_ID / "inbound"

    @property
    def solution(self) -> Path:
        return self.course / "source" / ASSIGNMENT / NOTEBOOK

    def collect(self, *args: str) -> str:
        """Run ``nbgrader collect`` in the course (must not hang); its log."""
        return run_nbgrader(self.course, "collect", ASSIGNMENT, *args).stderr

    def folder(self, student: str, timestamp: str = "2026-01-05 10:00:00.000000 UTC",
               random: str = "Xy3kQ9vA1bC2") -> Path:
        """An inbound folder named as ``nbgrader submit`` names it (not created)."""
        return self.inbound / f"{student}+{ASSIGNMENT}+{timestamp}+{random}"

    def submit(self, student: str, timestamp: str = "2026-01-05 10:00:00.000000 UTC") -> Path:
        """``student`` submits the honest submission's files (a notebook, timestamp, secret)."""
        folder = self.folder(student, timestamp)
        shutil.copytree(self.honest_submission, folder)
        (folder / "timestamp.txt").write_text(timestamp)
        return folder

    def submitted(self, student: str) -> Path:
        return self.course / "submitted" / student / ASSIGNMENT

    def fingerprint(self) -> dict[str, str]:
        """The hashes of what collecting must never change: source/, release/, config, gradebook."""
        c = self.course
        return digests(c / "source", c / "release", c / "nbgrader_config.py", c / "gradebook.db")

    def course_secrets(self) -> set[bytes]:
        """The contents a student must never get collected: every file of source/ and the config."""
        return {p.read_bytes() for p in [*self.course.joinpath("source").rglob("*"),
                                         self.course / "nbgrader_config.py"] if p.is_file()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with the assignment released to an exchange, and HONEST's real `nbgrader submit`."""
    root = tmp_path_factory.mktemp("template")
    exchange_root = root / "exchange"
    exchange_root.mkdir()
    exchange_root.chmod(0o1777)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBGRADER_EXCHANGE", os.fspath(exchange_root))
        make_course(root / "course")
        run_nbgrader(root / "course", "release_assignment", ASSIGNMENT)
    work = root / HONEST / COURSE_ID / ASSIGNMENT
    work.mkdir(parents=True)
    notebook = (root / "course" / "release" / ASSIGNMENT / NOTEBOOK).read_text()
    (work / NOTEBOOK).write_text(notebook.replace("YOUR ANSWER HERE", "Ada's own answer", 1))
    (work / "notes.txt").write_text("my notes\n")
    subprocess.run([sys.executable, "-m", "nbgrader", "submit", ASSIGNMENT, *student_flags(root, HONEST)],
                   cwd=root / HONEST, env=nbgrader_env(), check=True, capture_output=True)
    (submitted,) = (exchange_root / COURSE_ID / "inbound").iterdir()
    submitted.rename(root / "honest_submission")
    return root


def student_flags(root: Path, student: str) -> list[str]:
    """A student's nbgrader settings on the command line: the course, exchange and their cache."""
    return [f"--course={COURSE_ID}", f"--Exchange.root={root / 'exchange'}",
            "--Exchange.path_includes_course=True", f"--Exchange.cache={root / (student + '-cache')}",
            f"--CourseDirectory.student_id={student}"]


@pytest.fixture
def classroom(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Classroom:
    """A fresh copy of the template course and exchange (nbgrader finds the exchange by NBGRADER_EXCHANGE)."""
    for name in ("course", "exchange", "honest_submission", f"{HONEST}-cache"):
        shutil.copytree(template / name, tmp_path / name, symlinks=True)
    monkeypatch.setenv("NBGRADER_EXCHANGE", os.fspath(tmp_path / "exchange"))
    return Classroom(tmp_path / "course", tmp_path / "exchange", tmp_path / "honest_submission")


def attack_beside_honest(classroom: Classroom, attack: Callable[[Path], None], *reason: str,
                         attacker: str = ATTACKER, collect_args: tuple[str, ...] = ()) -> str:
    """Collect HONEST's submission and ``attack``'s (given the attacker's inbound folder); check both.

    The attacker gets nothing collected and the log names them and each of ``reason``; HONEST
    is collected byte for byte; the course's own files are unchanged.  Returns the log.
    """
    honest = classroom.submit(HONEST)
    folder = classroom.folder(attacker, random="Mz8pL0wQ4rT6")
    attack(folder)
    before = classroom.fingerprint()
    log = classroom.collect(*collect_args)
    assert classroom.fingerprint() == before
    assert files_of(classroom.submitted(HONEST)) == files_of(honest)
    submitted = classroom.course / "submitted"
    assert not (submitted / attacker).exists(), log
    leaked = [p for p in submitted.rglob("*") if p.is_file() and p.read_bytes() in classroom.course_secrets()]
    assert not leaked, log
    refusals = [line for line in log.splitlines() if "ERROR" in line and "refused" in line]
    assert len(refusals) == 1, log
    for word in (f"{attacker}'s submission", *reason, "collected nothing of it"):
        assert word in refusals[0], log
    assert not list(classroom.course.glob(".collecting-*")), "the staging folder was left behind"
    return log


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_a_notebook_linked_to_the_solution_is_refused_at_collect_and_the_honest_one_is_collected(
        classroom: Classroom) -> None:
    def attack(folder: Path) -> None:
        folder.mkdir()
        (folder / NOTEBOOK).symlink_to(classroom.solution)
        (folder / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC")

    attack_beside_honest(classroom, attack, f"{NOTEBOOK} is a symbolic link")


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_an_extra_file_linked_to_the_course_config_is_refused_at_collect(classroom: Classroom) -> None:
    def attack(folder: Path) -> None:
        shutil.copytree(classroom.honest_submission, folder)
        (folder / "config.txt").symlink_to(classroom.course / "nbgrader_config.py")

    attack_beside_honest(classroom, attack, "config.txt is a symbolic link")


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_a_subfolder_linked_to_the_course_source_is_refused_at_collect(classroom: Classroom) -> None:
    def attack(folder: Path) -> None:
        shutil.copytree(classroom.honest_submission, folder)
        (folder / "data").mkdir()
        (folder / "data" / "source").symlink_to(classroom.course / "source", target_is_directory=True)

    attack_beside_honest(classroom, attack, "data/source is a symbolic link")


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
@pytest.mark.timeout(120)
def test_a_fifo_in_a_submission_is_refused_at_collect_without_hanging(classroom: Classroom) -> None:
    def attack(folder: Path) -> None:
        shutil.copytree(classroom.honest_submission, folder)
        os.mkfifo(folder / "pipe.ipynb")

    attack_beside_honest(classroom, attack, "pipe.ipynb is a FIFO")


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_an_inbound_folder_that_is_a_link_to_the_course_source_is_refused_at_collect(
        classroom: Classroom) -> None:
    def attack(folder: Path) -> None:
        folder.symlink_to(classroom.course / "source" / ASSIGNMENT, target_is_directory=True)

    attack_beside_honest(classroom, attack, "the folder is a symbolic link")


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_a_student_id_of_dot_dot_is_refused_and_nothing_is_written_outside_submitted(
        classroom: Classroom) -> None:
    """`..+ASSIGNMENT+...` collected with --student=.. would land in COURSE/ASSIGNMENT/ (not submitted/)."""
    classroom.submit(HONEST)
    classroom.collect()
    course_folders = sorted(p.name for p in classroom.course.iterdir())
    shutil.copytree(classroom.honest_submission, classroom.folder(".."))
    before = classroom.fingerprint()
    log = classroom.collect("--student=..")
    assert classroom.fingerprint() == before
    assert sorted(p.name for p in classroom.course.iterdir()) == course_folders
    assert sorted(p.name for p in (classroom.course / "submitted").iterdir()) == [HONEST]
    assert "its student id '..' starts with a dot" in log and "collected nothing of it" in log, log


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_an_empty_student_id_is_refused_and_the_honest_one_is_collected(classroom: Classroom) -> None:
    """`+ASSIGNMENT+...` would be collected as submitted/ASSIGNMENT/, a student named after the assignment."""
    honest = classroom.submit(HONEST)
    shutil.copytree(classroom.honest_submission, classroom.folder(""))
    log = classroom.collect()
    assert files_of(classroom.submitted(HONEST)) == files_of(honest)
    assert sorted(p.name for p in (classroom.course / "submitted").iterdir()) == [HONEST]
    assert "its student id is empty" in log, log


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_an_inbound_name_without_a_timestamp_is_refused_and_does_not_stop_collecting(
        classroom: Classroom) -> None:
    """nbgrader's own collect stops at the first name it cannot parse, for every student."""
    honest = classroom.submit(HONEST)
    shutil.copytree(classroom.honest_submission, classroom.inbound / f"{ATTACKER}+{ASSIGNMENT}+not-a-time")
    log = classroom.collect()
    assert files_of(classroom.submitted(HONEST)) == files_of(honest)
    assert not (classroom.course / "submitted" / ATTACKER).exists()
    assert f"refused {ATTACKER}'s submission" in log and "is not STUDENT+ASSIGNMENT+TIMESTAMP" in log, log


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_a_refused_resubmission_keeps_the_submission_collected_before(classroom: Classroom) -> None:
    first = classroom.submit(HONEST)
    classroom.collect()
    collected = files_of(classroom.submitted(HONEST))
    assert collected == files_of(first)
    later = classroom.folder(HONEST, "2026-01-06 10:00:00.000000 UTC", random="Later0000000")
    shutil.copytree(classroom.honest_submission, later)
    (later / "timestamp.txt").write_text("2026-01-06 10:00:00.000000 UTC")
    (later / NOTEBOOK).unlink()
    (later / NOTEBOOK).symlink_to(classroom.solution)
    log = classroom.collect("--update")
    assert files_of(classroom.submitted(HONEST)) == collected
    assert f"refused {HONEST}'s submission" in log and "the submission collected before stays" in log, log


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_an_honest_resubmission_replaces_the_one_collected_before(classroom: Classroom) -> None:
    """nbgrader's --update still works: the newer submission is collected in place of the older."""
    classroom.submit(HONEST)
    classroom.collect()
    later = classroom.submit(HONEST, "2026-01-06 10:00:00.000000 UTC")
    (later / "notes.txt").write_text("revised notes\n")
    (later / "drafts").mkdir()
    (later / "drafts" / "idea.md").write_text("an idea\n")
    log = classroom.collect("--update")
    assert "Updating submission" in log, log
    assert files_of(classroom.submitted(HONEST)) == files_of(later)


def test_a_link_or_fifo_swapped_in_after_the_lstat_check_is_refused_when_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copier's second line: even when the lstat check sees a plain file, the O_NOFOLLOW open refuses."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the solution\n")
    for name, make in [("linked.txt", lambda p: p.symlink_to(secret)), ("pipe.txt", os.mkfifo)]:
        src = tmp_path / f"src-{name}"
        (src / "sub").mkdir(parents=True)
        (src / "sub" / "a.txt").write_text("a\n")
        make(src / "sub" / name)
        dest = tmp_path / f"dest-{name}"
        with monkeypatch.context() as mp:
            mp.setattr(exchange, "kind_problem", lambda *_: None)  # the lstat check misses the swap
            with pytest.raises(exchange.Refused, match=f"sub/{name} is (a symbolic link|not a regular file)"):
                exchange.copy_submission(os.fspath(src), os.fspath(dest), exchange.CopyRules())
        assert not dest.exists(), "a refused copy leaves nothing behind"


def test_a_submission_over_the_caps_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(b"x" * 2000)
    with pytest.raises(exchange.Refused, match="more than 1000 bytes"):
        exchange.copy_submission(os.fspath(src), os.fspath(tmp_path / "d1"),
                                 exchange.CopyRules(max_total_bytes=1000))
    for i in range(5):
        (src / f"f{i}.txt").write_text("x")
    with pytest.raises(exchange.Refused, match="more than 3 files and folders"):
        exchange.copy_submission(os.fspath(src), os.fspath(tmp_path / "d2"),
                                 exchange.CopyRules(max_entries=3))
    assert not (tmp_path / "d1").exists() and not (tmp_path / "d2").exists()


@pytest.mark.parametrize("student_id", ["", ".", "..", ".hidden", "a/b", "a\0b", "a\nb", "*"])
def test_a_student_id_that_is_not_a_plain_name_is_refused(student_id: str) -> None:
    assert exchange.student_id_problem(student_id)


@pytest.mark.parametrize("student_id", ["ada", "ada.lovelace", "ada+lovelace", "s1234567"])
def test_a_plain_student_id_is_accepted(student_id: str) -> None:
    assert exchange.student_id_problem(student_id) is None


def make_feedback(classroom: Classroom, student: str, html: Path | bytes, secret: str) -> Path:
    """feedback/STUDENT/ASSIGNMENT/ as generate_feedback leaves it; ``html`` a Path makes it a link."""
    folder = classroom.course / "feedback" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    target = folder / f"{ASSIGNMENT}.html"
    if isinstance(html, Path):
        target.symlink_to(html)
    else:
        target.write_bytes(html)
    (folder / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text(secret)
    return folder


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_release_feedback_never_releases_a_link_and_releases_the_honest_html(classroom: Classroom) -> None:
    honest_secret = (classroom.honest_submission / "submission_secret.txt").read_text()
    make_feedback(classroom, HONEST, b"<html>Ada's feedback</html>", honest_secret)
    make_feedback(classroom, ATTACKER, classroom.solution, "m" * 128)
    eve = make_feedback(classroom, "eve", b"<html>Eve's feedback</html>", "e" * 128)
    (eve / "submission_secret.txt").unlink()
    (eve / "submission_secret.txt").symlink_to(classroom.course / "nbgrader_config.py")
    before = classroom.fingerprint()
    log = run_nbgrader(classroom.course, "release_feedback", ASSIGNMENT).stderr
    assert classroom.fingerprint() == before
    released = classroom.exchange / COURSE_ID / "feedback"
    honest_html = released / f"{notebook_hash(secret=honest_secret, notebook_id=ASSIGNMENT)}.html"
    assert honest_html.read_bytes() == b"<html>Ada's feedback</html>"
    assert [p.name for p in released.iterdir()] == [honest_html.name], log
    assert f"refused to release {ATTACKER}'s feedback" in log, log
    assert f"{ASSIGNMENT}.html is a symbolic link" in log, log
    assert "refused to release eve's feedback" in log and "submission_secret.txt is a symbolic link" in log


def fetch_feedback(classroom: Classroom) -> tuple[str, Path]:
    """HONEST runs `nbgrader fetch_feedback` with the safe class (as the course names it): log, folder."""
    student = classroom.course.parent / HONEST
    student.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "fetch_feedback", ASSIGNMENT,
                           *student_flags(classroom.course.parent, HONEST),
                           "--ExchangeFactory.fetch_feedback=autograder.host.exchange.SafeFetchFeedback"],
                          cwd=student, env=nbgrader_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr, student / COURSE_ID / ASSIGNMENT / "feedback"


@pytest.mark.slow  # nbgrader's own commands, a few seconds each
def test_fetch_feedback_copies_a_regular_html_and_never_a_link(classroom: Classroom) -> None:
    secret = (classroom.honest_submission / "submission_secret.txt").read_text()
    released = classroom.exchange / COURSE_ID / "feedback"
    released.mkdir()
    html = released / f"{notebook_hash(secret=secret, notebook_id=ASSIGNMENT)}.html"
    html.symlink_to(classroom.solution)
    log, fetched = fetch_feedback(classroom)
    assert not fetched.exists() or not list(fetched.rglob("*.html")), log
    assert "refused to fetch feedback" in log and "is a symbolic link" in log, log

    html.unlink()
    html.write_bytes(b"<html>Ada's feedback</html>")
    log, fetched = fetch_feedback(classroom)
    (copy,) = fetched.rglob("*.html")
    assert copy.read_bytes() == b"<html>Ada's feedback</html>" and not copy.is_symlink(), log
