"""Runs on the host, inside nbgrader: its exchange's collect and feedback steps, never following a link.

Students can write the exchange's ``inbound/`` folder, and nbgrader's stock ``collect`` copies
from it as the instructor with ``shutil.copytree``, which follows symbolic links: a notebook
that is a link to ``source/ASSIGNMENT/ASSIGNMENT.ipynb`` gets the instructor's solution
collected (then graded and returned as feedback), a FIFO hangs it, and a student id of ``..``
writes outside ``submitted/``.  The course's ``nbgrader_config.py`` names these classes in
``ExchangeFactory``, so every collect (command line, Formgrader) uses them:

* :class:`SafeCollect` copies only folders and regular files, each opened without following a
  link (``O_NOFOLLOW``) and checked on the open file, so one swapped in after the check is
  refused too.  A submission holding a link, a FIFO, a socket, a device, an odd student id, or
  more than :data:`MAX_SUBMISSION_BYTES` or :data:`MAX_SUBMISSION_ENTRIES` is not collected at
  all; an ERROR names the student, the folder and the reason, and the other submissions are
  collected as usual.  A refused resubmission leaves the one collected before in place.
* :class:`SafeReleaseFeedback` and :class:`SafeFetchFeedback` copy feedback only from regular
  files that are not links.

Everything else (which submission is newest, ``--update``, ``--before-duedate``,
``CourseDirectory.ignore``/``include``/``max_file_size``, group-shared permissions) is nbgrader's.
"""

from __future__ import annotations

import datetime
import errno
import fnmatch
import glob
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from logging import Logger
from typing import Any

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.utils import notebook_hash

MAX_SUBMISSION_BYTES = 100 * 1024 * 1024  # one submission's files together (max_dir_size may lower it)
MAX_SUBMISSION_ENTRIES = 1000  # files and folders in one submission
MAX_SUBMISSION_DEPTH = 32  # folders inside folders

# Open without following a link in the last component, and without waiting on a FIFO's writer.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
CHUNK = 1 << 20


class Refused(Exception):
    """A submission or feedback file that is not copied; the message says why, for the log."""


def student_id_problem(student_id: str) -> str | None:
    """Why ``student_id`` cannot name a folder under submitted/ or feedback/ (None: a plain name).

    nbgrader joins it into paths, so ``..``, ``.``, a separator or an empty id would write
    elsewhere; a leading dot would hide the folder from nbgrader's own globs, and a glob
    character would make them match other students.
    """
    if not student_id:
        return "its student id is empty"
    if "\0" in student_id or os.sep in student_id or (os.altsep and os.altsep in student_id):
        return f"its student id {student_id!r} contains a path separator or NUL"
    if student_id.startswith("."):
        return f"its student id {student_id!r} starts with a dot"
    if not student_id.isprintable() or any(c in student_id for c in "*?["):
        return f"its student id {student_id!r} holds a control or glob character"
    return None


def shown(text: str) -> str:
    """``text`` for a log line: as is, or quoted if it holds a newline or other control character."""
    return text if text.isprintable() else repr(text)


def kind_problem(name: str, mode: int) -> str | None:
    """Why a file of this ``st_mode`` (from lstat/fstat) is not copied (None: a folder or regular file)."""
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return f"{name} is a symbolic link"
    if stat.S_ISFIFO(mode):
        return f"{name} is a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return f"{name} is a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"{name} is a device"
    return f"{name} is not a regular file"


def _open_error(name: str, exc: OSError, directory: bool = False) -> Refused:
    """The refusal for an ``os.open`` that failed: a link or special file swapped in, or unreadable."""
    if exc.errno == errno.ELOOP:
        return Refused(f"{name} is a symbolic link")
    if exc.errno == errno.ENOTDIR and directory:
        return Refused(f"{name} is no longer a folder")
    return Refused(f"{name} could not be read ({exc.strerror or exc})")


def open_regular(path: str, dir_fd: int | None = None, name: str | None = None) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without following a link; (fd, its fstat), or Refused.

    The check is on the opened file (``fstat``), so a link or FIFO swapped in after any earlier
    ``lstat`` is refused too; ``O_NONBLOCK`` keeps a FIFO from hanging the open.
    """
    name = name or path
    try:
        fd = os.open(path, READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise _open_error(name, exc) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise Refused(kind_problem(name, st.st_mode) or f"{name} is not a regular file")
    return fd, st


def read_regular(path: str) -> tuple[bytes, os.stat_result]:
    """The contents and fstat of the regular file ``path``, never a link's target or a FIFO (Refused)."""
    fd, st = open_regular(path, name=os.path.basename(path))
    with os.fdopen(fd, "rb") as fh:
        return fh.read(), st


def copied_mode(st: os.stat_result, owner: int) -> int:
    """The mode a copy gets: the source's read and execute bits plus ``owner``'s; no set-id, no others' write.

    Group write comes back only with nbgrader's ``groupshared`` (:func:`share_with_group`).
    """
    return (stat.S_IMODE(st.st_mode) & 0o755) | owner


def _write_new(dest: str, data_fd: int, size: int, st: os.stat_result) -> None:
    """Write up to ``size`` bytes of ``data_fd`` as the new regular file ``dest``, with ``st``'s times."""
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        left = size
        while left > 0:
            chunk = os.read(data_fd, min(CHUNK, left))
            if not chunk:
                break
            os.write(out, chunk)
            left -= len(chunk)
        os.fchmod(out, copied_mode(st, 0o600))
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(out)


@dataclass
class CopyRules:
    """What a submission's copy skips (nbgrader's ignore/include/max_file_size) and refuses (the caps)."""

    exclude: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=lambda: ["*"])
    max_file_bytes: int = 0  # 0: no limit; a larger file is skipped with a warning, as nbgrader does
    max_total_bytes: int = MAX_SUBMISSION_BYTES
    max_entries: int = MAX_SUBMISSION_ENTRIES
    max_depth: int = MAX_SUBMISSION_DEPTH
    log: Logger | None = None
    entries: int = 0
    total_bytes: int = 0

    def excluded(self, name: str) -> bool:
        """nbgrader's ``CourseDirectory.ignore``: skipped unopened, folder or file."""
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.exclude)

    def wanted_file(self, rel: str, name: str, size: int) -> bool:
        """nbgrader's ``CourseDirectory.include`` and ``max_file_size`` for a regular file."""
        if self.include and not any(fnmatch.fnmatch(name, pattern) for pattern in self.include):
            return False
        if self.max_file_bytes and size > self.max_file_bytes:
            if self.log:
                self.log.warning("Ignoring file too large '%s' (see config option "
                                 "CourseDirectory.max_file_size)", rel)
            return False
        return True

    def count(self) -> None:
        """Count one more file or folder; Refused past the cap."""
        self.entries += 1
        if self.entries > self.max_entries:
            raise Refused(f"it holds more than {self.max_entries} files and folders")

    def add_bytes(self, size: int) -> None:
        """Count ``size`` more bytes to copy; Refused past the cap."""
        self.total_bytes += size
        if self.total_bytes > self.max_total_bytes:
            raise Refused(f"its files hold more than {self.max_total_bytes} bytes")


def _copy_dir(src_fd: int, dest: str, rel: str, rules: CopyRules, depth: int) -> None:
    """Copy the open folder ``src_fd`` into the existing folder ``dest``: folders and regular files only."""
    if depth > rules.max_depth:
        raise Refused(f"{rel} is nested more than {rules.max_depth} folders deep")
    with os.scandir(src_fd) as entries:
        for entry in entries:
            path = os.path.join(rel, entry.name) if rel else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode  # lstat: a link is seen as a link
            except OSError as exc:  # removed meanwhile
                raise _open_error(path, exc) from None
            _copy_entry(src_fd, entry.name, dest, path, mode, rules, depth)


def _copy_entry(src_fd: int, name: str, dest: str, path: str, mode: int, rules: CopyRules,
                depth: int) -> None:
    """Copy one entry ``name`` of the open folder ``src_fd`` (``path`` in the submission) into ``dest``."""
    rules.count()  # every entry, skipped or not: a folder of millions of files is refused, not walked
    if rules.excluded(name):
        return
    problem = kind_problem(path, mode)
    if problem:
        raise Refused(problem)
    if stat.S_ISDIR(mode):
        try:
            sub_fd = os.open(name, READ_FLAGS | os.O_DIRECTORY, dir_fd=src_fd)
        except OSError as exc:
            raise _open_error(path, exc, directory=True) from None
        try:
            sub_st = os.fstat(sub_fd)
            os.mkdir(os.path.join(dest, name), 0o700)
            _copy_dir(sub_fd, os.path.join(dest, name), path, rules, depth + 1)
            os.chmod(os.path.join(dest, name), copied_mode(sub_st, 0o700))
        finally:
            os.close(sub_fd)
        return
    fd, st = open_regular(name, dir_fd=src_fd, name=path)
    try:
        if st.st_nlink > 1:
            raise Refused(f"{path} is a hard link to another file")
        if rules.wanted_file(path, name, st.st_size):
            rules.add_bytes(st.st_size)
            _write_new(os.path.join(dest, name), fd, st.st_size, st)
    finally:
        os.close(fd)


def copy_submission(src: str, dest: str, rules: CopyRules) -> None:
    """Copy the folder ``src`` to the new folder ``dest`` without following any link (else Refused).

    Written instead of ``shutil.copytree`` because copytree follows links.  Every folder is
    opened relative to its parent with ``O_NOFOLLOW``, every file checked on its open
    descriptor, so nothing outside ``src`` is read even if ``src`` changes while it is copied.
    On a refusal, ``dest`` is removed: nothing half-copied stays.
    """
    try:
        mode = os.lstat(src).st_mode
    except OSError as exc:
        raise Refused(f"the folder could not be read ({exc.strerror or exc})") from None
    if stat.S_ISLNK(mode):
        raise Refused("the folder is a symbolic link")
    if not stat.S_ISDIR(mode):
        raise Refused(kind_problem("it", mode) or "it is a file, not a folder")
    try:
        src_fd = os.open(src, READ_FLAGS | os.O_DIRECTORY)
    except OSError as exc:
        raise _open_error("the folder", exc, directory=True) from None
    try:
        src_st = os.fstat(src_fd)
        os.mkdir(dest, 0o700)
        try:
            _copy_dir(src_fd, dest, "", rules, 1)
            os.chmod(dest, copied_mode(src_st, 0o700))
        except OSError as exc:  # a file removed while copied, a full disk: this submission only
            shutil.rmtree(dest, ignore_errors=True)
            raise Refused(f"it could not be copied ({exc})") from None
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    finally:
        os.close(src_fd)


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, copying only regular files from inbound/: no link is followed.

    Each chosen submission is copied first into a staging folder in the course (checked as it
    is copied); nbgrader's own ``copy_files`` then decides as usual which to collect, and
    :meth:`do_copy` moves the staged copy in.  A refused submission never reaches nbgrader's
    ``copy_files``, so the submission collected before it is neither removed nor replaced.
    """

    def _path_to_record(self, path: str) -> dict[str, Any]:
        """nbgrader's record of an inbound folder; one with an unreadable name is kept apart, to refuse."""
        try:
            return super()._path_to_record(path)
        except Exception as exc:  # a bad timestamp (ValueError, OverflowError) or name (ExchangeError)
            filename = os.path.basename(path)
            # Its own group (a NUL is in no real name), so it never displaces a student's real submission.
            return {"username": "\0" + filename, "filename": filename, "timestamp": datetime.datetime.min,
                    "unreadable": f"its name is not STUDENT+ASSIGNMENT+TIMESTAMP ({exc})"}

    def copy_rules(self) -> CopyRules:
        """nbgrader's ignore/include/max_file_size and max_dir_size, with this module's caps."""
        cd = self.coursedir
        max_total = MAX_SUBMISSION_BYTES
        if cd.max_dir_size:
            max_total = min(max_total, 1000 * cd.max_dir_size)
        return CopyRules(exclude=list(cd.ignore), include=list(cd.include),
                         max_file_bytes=1000 * cd.max_file_size if cd.max_file_size else 0,
                         max_total_bytes=max_total, log=self.log)

    def refuse(self, rec: dict[str, Any], reason: str) -> None:
        """Log, as an ERROR the instructor sees, that ``rec``'s submission is not collected, and why."""
        student = rec["filename"].split("+", 1)[0] if rec.get("unreadable") else rec["username"]
        dest = self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                          self.coursedir.assignment_id)
        kept = ("; the submission collected before stays" if not student_id_problem(student)
                and os.path.isdir(dest) else "")
        self.log.error("refused %s submission of %s (inbound/%s): %s; collected nothing of it%s. "
                       "Ask the student to submit again.", f"{shown(student)}'s" if student else "a",
                       self.coursedir.assignment_id, shown(rec["filename"]), reason, kept)

    def stage(self, rec: dict[str, Any]) -> str | None:
        """Copy ``rec``'s inbound folder into the staging folder; its path, or None if refused (logged)."""
        problem = rec.get("unreadable") or student_id_problem(rec["username"])
        if problem:
            self.refuse(rec, problem)
            return None
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix=".collecting-", dir=self.coursedir.root)
        staged = os.path.join(self._staging, str(len(self._staged)))
        try:
            copy_submission(os.path.join(self.inbound_path, rec["filename"]), staged, self.copy_rules())
        except Refused as exc:
            self.refuse(rec, str(exc))
            return None
        return staged

    def copy_files(self) -> None:
        """Stage every chosen submission safely, then let nbgrader collect the accepted ones."""
        self._staging: str | None = None
        self._staged: dict[str, str] = {}
        try:
            accepted = []
            for rec in self.src_records:
                staged = self.stage(rec)
                if staged is not None:
                    self._staged[os.path.join(self.inbound_path, rec["filename"])] = staged
                    accepted.append(rec)
            self.src_records = accepted
            super().copy_files()
        finally:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)

    def do_copy(self, src: str, dest: str, log: Any = None) -> None:
        """Put ``src``'s checked copy at ``dest`` (nbgrader's copy, minus copytree's following of links)."""
        staged = getattr(self, "_staged", {}).pop(src, None)
        if staged is None:  # called outside copy_files: copy and check now
            try:
                copy_submission(src, dest, self.copy_rules())
            except Refused as exc:
                raise RuntimeError(f"refused {src}: {exc}") from None
        else:
            try:
                os.rename(staged, dest)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copytree(staged, dest, symlinks=True)  # our own staged copy: folders and regular files
        if self.coursedir.groupshared:
            share_with_group(dest, self.log)


def share_with_group(dest: str, log: Logger) -> None:
    """nbgrader's group-shared permissions after a copy (folders ug+rwx and setgid, files ug+rw)."""
    for dirname, _, filenames in os.walk(dest):
        for path, wanted, limit in [(dirname, 0o2770, 0o2777)] + [
                (os.path.join(dirname, f), 0o660, 0o777) for f in filenames]:
            st_mode = os.lstat(path).st_mode
            if st_mode & wanted != wanted:
                try:
                    os.chmod(path, (st_mode | wanted) & limit)
                except PermissionError:
                    log.warning("Could not update permissions of %s to make it groupshared", path)


class SafeReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, reading feedback/ only from regular files that are not links.

    A student whose ``feedback/STUDENT/ASSIGNMENT/`` folder, html, ``timestamp.txt`` or
    ``submission_secret.txt`` is a link or a special file, or whose id is not a plain name,
    gets no feedback released and an ERROR naming them; the others are released as usual.
    """

    def copy_files(self) -> None:
        """nbgrader's loop over feedback/*/ASSIGNMENT/*.html, each file read without following links."""
        if self.coursedir.student_id_exclude:
            exclude_students = set(self.coursedir.student_id_exclude.split(","))
        else:
            exclude_students = set()
        regexp = re.escape(os.path.sep).join([
            self.coursedir.format_path(self.coursedir.feedback_directory, "(?P<student_id>.*)",
                                       self.coursedir.assignment_id, escape=True),
            "(?P<notebook_id>.*).html"])
        for html_file in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            m = re.match(regexp, html_file)
            if m is None:
                self.log.error("Could not match '%s' with regexp '%s'", html_file, regexp)
                continue
            student_id, notebook_id = m.group("student_id"), m.group("notebook_id")
            if student_id in exclude_students:
                self.log.debug("Skipping student '%s'", student_id)
                continue
            try:
                (html, html_st), timestamp, submission_secret = self.read_feedback(student_id, html_file)
            except Refused as exc:
                self.log.error("refused to release %s's feedback on %s (%s): %s; released nothing of it.",
                               student_id or "?", self.coursedir.assignment_id, html_file, exc)
                continue
            checksum = notebook_hash(secret=submission_secret, notebook_id=notebook_id)
            self.log.info("Releasing feedback for student '%s' on assignment '%s/%s/%s' (%s)", student_id,
                          self.coursedir.course_id, self.coursedir.assignment_id, notebook_id, timestamp)
            dest = os.path.join(self.dest_path, f"{checksum}.html")
            write_replacing(dest, html, copied_mode(html_st, 0o600))  # shutil.copy kept the mode too
            self.log.info("Feedback released to: %s", dest)

    def read_feedback(self, student_id: str,
                      html_file: str) -> tuple[tuple[bytes, os.stat_result], str, str]:
        """((html, its stat), timestamp, submission secret) of a feedback file; Refused: a link, an odd id."""
        problem = student_id_problem(student_id)
        if problem:
            raise Refused(problem)
        feedback_dir = os.path.dirname(html_file)
        for folder in (os.path.dirname(feedback_dir), feedback_dir):
            mode = os.lstat(folder).st_mode
            if not stat.S_ISDIR(mode):
                raise Refused(kind_problem(f"the folder {folder}", mode) or f"{folder} is not a folder")
        html = read_regular(html_file)
        timestamp = read_regular(os.path.join(feedback_dir, "timestamp.txt"))[0].decode()
        secret = read_regular(os.path.join(feedback_dir, "submission_secret.txt"))[0].decode()
        return html, timestamp, secret


def write_replacing(dest: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``dest`` atomically: a new file moved over it (a link is replaced, not followed)."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


class SafeFetchFeedback(ExchangeFetchFeedback):
    """nbgrader's fetch_feedback, never copying from a feedback file that is a link or special file."""

    def do_copy(self, src: str, dest: str) -> None:
        """Copy each found feedback html into ``dest/TIMESTAMP/NOTEBOOK.html``, skipping (ERROR) a link."""
        for notebook_id, timestamp, feedbackpath in self.feedback_files:
            try:
                html, _ = read_regular(feedbackpath)
            except Refused as exc:
                self.log.error("refused to fetch feedback for %s (%s): %s", notebook_id, feedbackpath, exc)
                continue
            dest_with_timestamp = os.path.join(dest, timestamp)
            os.makedirs(dest_with_timestamp, exist_ok=True)
            html_file = os.path.join(dest_with_timestamp, notebook_id + ".html")
            if os.path.lexists(html_file):
                self.log.debug("Overwriting existing feedback: %s", html_file)
            write_replacing(html_file, html)
            self.log.info("Fetched feedback: %s", html_file)
