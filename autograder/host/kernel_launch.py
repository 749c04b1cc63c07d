"""Runs on the host, started by jupyter_client: the sandboxed kernel's launcher (its kernel spec's argv).

It copies the connection file where the sandbox sees it, then becomes ``prlimit`` and bubblewrap
(:func:`autograder.host.sandbox.kernel_argv`).  It imports the standard library and the stderr
filter only: it starts once per graded notebook, and until bubblewrap runs, nothing else ends it
when the grader dies.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import sys
from pathlib import Path

from autograder.host.kernel_stderr import drop_startup_lines

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int | None) -> None:
    """SIGKILL this process when the process that started it ends; exit now if it already has.

    bubblewrap's ``--die-with-parent`` sets the same signal, but only once it runs: a grader (a
    Dask worker) killed while Python starts this launcher would leave the kernel running for good.
    The signal is kept across ``exec`` (prlimit and bwrap are not set-user-ID programs).
    ``parent`` is the pid jupyter_client gives as ``JPY_PARENT_PID``; None skips the check.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        sys.exit("the kernel's launcher could not ask to end with the grader: "
                 f"{os.strerror(ctypes.get_errno())}")
    if parent is not None and os.getppid() != parent:
        sys.exit(f"the grader that started this kernel (pid {parent}) has ended: not starting it")


def _sandbox_env(argv: list[str]) -> dict[str, str]:
    """The environment a sandbox command gives its process (bwrap's ``--setenv NAME VALUE`` pairs)."""
    return {argv[i + 1]: argv[i + 2] for i, arg in enumerate(argv[:-2]) if arg == "--setenv"}


def launch(argv_file: str, inside: str, connection_file: str) -> None:
    """Copy the connection file where the sandbox sees it, then replace this process by the kernel.

    Refuses a connection over TCP: the kernel, without a network, could never be reached.  The
    kernel's stderr reaches the grader's without the TensorFlow log lines its log level hides
    (:func:`~autograder.host.kernel_stderr.drop_startup_lines`).
    """
    parent = os.environ.get("JPY_PARENT_PID")
    die_with_parent(int(parent) if parent and parent.isdigit() else None)
    transport = json.loads(Path(connection_file).read_text()).get("transport")
    if transport != "ipc":
        sys.exit(f"the sandboxed kernel has no network: connect to it over 'ipc', not {transport!r} "
                 "(autograder.host.sandbox.connection)")
    shutil.copyfile(connection_file, inside)
    argv = json.loads(Path(argv_file).read_text())
    if parent and "--clearenv" in argv:  # jupyter_client's, set for this launch
        at = argv.index("--clearenv") + 1
        argv[at:at] = ["--setenv", "JPY_PARENT_PID", parent]
    drop_startup_lines(int(_sandbox_env(argv).get("TF_CPP_MIN_LOG_LEVEL", "0")))
    os.execve(argv[0], argv, {})  # the sandbox's environment is in argv (bwrap's --clearenv, --setenv)


if __name__ == "__main__":
    launch(*sys.argv[1:4])
