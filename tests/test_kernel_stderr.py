"""A graded kernel's stderr reaches the grader's terminal without TensorFlow's start-up log lines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.host.kernel_stderr import BEFORE_INIT, is_hidden

ONEDNN = b"I0000 00:00:1796597785.043505       1 port.cc:153] oneDNN custom operations are on.\n"
WARNING = b"W0000 00:00:1796597785.043505   31174 cpu_allocator.cc:1] a warning\n"
ERROR = b"E1206 22:55:12.123456   31174 op_kernel.cc:1] an error\n"
HARMLESS = (b"E0000 00:00:1796598543.267475       1 node_def_util.cc:682] NodeDef mentions attribute "
            b"use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; ...> This may "
            b"be expected if your graph generating binary is newer  than this binary.\n")


@pytest.mark.parametrize(("level", "hidden"), [(0, []), (1, [ONEDNN]), (2, [ONEDNN, WARNING]),
                                               (3, [ONEDNN, WARNING, ERROR])])
def test_exactly_the_lines_the_log_level_hides_are_dropped(level, hidden):
    lines = [ONEDNN, WARNING, ERROR, b"Traceback (most recent call last):\n", b"I0000 is not a log line\n"]
    assert [line for line in lines if is_hidden(line, level)] == hidden
    assert is_hidden(BEFORE_INIT + b"\n", level) == (level > 0)


def test_tensorflows_harmless_unbounded_threadpool_error_counts_as_a_warning():
    assert [is_hidden(HARMLESS, level) for level in range(4)] == [False, False, True, True]


def test_a_launcher_that_execs_passes_everything_else_through_in_order():
    startup, later = BEFORE_INIT + b"\n" + ONEDNN, WARNING + ERROR + b"x" * 100_000 + b"\n"
    child = ("import os, sys\n"
             f"os.write(2, {startup!r})\n"
             "print('kept 1', file=sys.stderr, flush=True)\n"
             f"os.write(2, {later!r})\n")
    launcher = ("import os, sys\n"
                "from autograder.host.kernel_stderr import drop_startup_lines\n"
                "drop_startup_lines(2)\n"
                f"os.execv(sys.executable, [sys.executable, '-c', {child!r}])\n")
    proc = subprocess.run([sys.executable, "-c", launcher], stderr=subprocess.PIPE, timeout=60, check=True)
    assert proc.stderr == b"kept 1\n" + ERROR + b"x" * 100_000 + b"\n"


def test_a_kernel_spec_can_run_any_command_through_the_filter():
    """``python -m autograder.host.kernel_stderr CMD``: CMD's stderr without the lines its log level hides."""
    child = f"import os\nos.write(2, {ONEDNN + WARNING + ERROR!r})\n"
    command = [sys.executable, "-m", "autograder.host.kernel_stderr", sys.executable, "-c", child]
    proc = subprocess.run(command, stderr=subprocess.PIPE, timeout=60, check=True,
                          env={"TF_CPP_MIN_LOG_LEVEL": "1"})
    assert proc.stderr == WARNING + ERROR
