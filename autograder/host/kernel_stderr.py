"""A kernel's stderr on the terminal without TensorFlow's start-up log lines.

TensorFlow 2.19 and later log a few lines while it loads (``oneDNN custom operations are on``),
before it reads ``TF_CPP_MIN_LOG_LEVEL``, so the setting cannot hide them (tensorflow#100442).
ipykernel copies whatever its process writes to file descriptor 2 to the notebook and to the
kernel's own stderr, which is the grader's terminal: every graded kernel printed them there.
A small filter between the kernel and that stderr drops exactly the lines ``TF_CPP_MIN_LOG_LEVEL``
would have dropped (the notebook keeps its copy): :func:`drop_startup_lines` in the sandbox's
launcher, :func:`startup_lines_dropped` for a kernel this process starts, and
``python -m autograder.host.kernel_stderr CMD ...`` in a kernel spec.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# abseil's format, as TensorFlow logs: "I0000 00:00:1796597785.043505     1 port.cc:153] oneDNN ..."
LOG_LINE = re.compile(rb"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
BEFORE_INIT = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}  # what TF_CPP_MIN_LOG_LEVEL counts
# Logged as errors, but harmless by TensorFlow's own words ("Unknown attributes will be ignored"):
# its Python side gives tf.data's map an attribute its C++ op does not declare.  Counted as warnings.
HARMLESS_ERRORS = (b"] NodeDef mentions attribute use_unbounded_threadpool which is not in the op",)
MAX_LINE = 64 * 1024  # read at most this much at a time: a kernel's stderr is untrusted


def is_hidden(line: bytes, level: int) -> bool:
    """Whether ``TF_CPP_MIN_LOG_LEVEL=level`` would hide this TensorFlow log line (never any other
    line), counting :data:`HARMLESS_ERRORS` as warnings."""
    if line.rstrip(b"\r\n") == BEFORE_INIT:
        return level >= 1  # it announces the lines below: gone with them
    match = LOG_LINE.match(line)
    if not match:
        return False
    severity = SEVERITY[match.group(1)]
    if severity == SEVERITY[b"E"] and any(harmless in line for harmless in HARMLESS_ERRORS):
        severity = SEVERITY[b"W"]
    return severity < level


def _copy(read: int, write: Callable[[bytes], object], level: int) -> None:
    """Copy lines from the pipe ``read`` until every writer has closed it, less the hidden ones."""
    with open(read, "rb") as lines:
        for line in iter(lambda: lines.readline(MAX_LINE), b""):
            if not is_hidden(line, level):
                write(line)


def drop_startup_lines(level: int) -> None:
    """From now on, this process's stderr (and its children's) reaches the same place less the
    TensorFlow log lines below ``level``; for a launcher that then execs the kernel.

    A forked child copies the lines through a pipe and ends when every writer has closed it.
    """
    if level <= 0:
        return
    read, write = os.pipe()
    if os.fork() == 0:  # the filter: nothing of the launcher's but the pipe and the real stderr
        try:
            os.close(write)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            with open(2, "wb", buffering=0, closefd=False) as out:
                _copy(read, out.write, level)
        finally:
            os._exit(0)
    os.close(read)
    os.dup2(write, 2)
    os.close(write)


@contextmanager
def startup_lines_dropped(level: int) -> Iterator[int]:
    """A file descriptor to give a kernel started in the block as its stderr: what it writes reaches
    this process's stderr less the TensorFlow log lines below ``level`` (a thread copies it)."""
    read, write = os.pipe()

    def to_stderr(line: bytes) -> None:
        sys.stderr.write(line.decode(errors="replace"))
        sys.stderr.flush()

    thread = threading.Thread(target=_copy, args=(read, to_stderr, level), name="kernel stderr", daemon=True)
    thread.start()
    try:
        yield write
    finally:
        os.close(write)  # the kernel's copy closed when it ended: the thread reads to the end
        thread.join(timeout=10)


def main(argv: list[str]) -> None:
    """``python -m autograder.host.kernel_stderr CMD ...``: run CMD (a kernel) with
    :func:`drop_startup_lines` at its ``TF_CPP_MIN_LOG_LEVEL``; for a kernel spec's argv."""
    drop_startup_lines(int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")))
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
