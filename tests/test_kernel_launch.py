"""The sandboxed kernel's launcher ends with the grader that started it, even before bubblewrap runs.

A Dask worker SIGKILLed while Python was still starting the launcher used to leave the kernel
(bwrap, its stderr filter and ipykernel) running under init for good: bwrap's own
``--die-with-parent`` is set only once bwrap runs.  Here a stand-in grader starts the launcher
on a command that stands for bwrap (``sleep``) and is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import RELEASE_NOTEBOOK, ROOT

# A grader: starts the launcher with jupyter_client's JPY_PARENT_PID, prints the launcher's pid, waits.
GRADER = ("import os, subprocess, sys, time\n"
          "env = {**os.environ, 'JPY_PARENT_PID': sys.argv[1] or str(os.getpid())}\n"
          "launcher = subprocess.Popen(sys.argv[2:], env=env)\n"
          "print(launcher.pid, flush=True)\n"
          "time.sleep(600)\n")


def _launcher(tmp_path: Path, command: list[str]) -> list[str]:
    """The launcher's command line, as the sandboxed kernel spec gives it, with ``command`` for bwrap's."""
    (tmp_path / "argv.json").write_text(json.dumps(command))
    (tmp_path / "connection.json").write_text(json.dumps({"transport": "ipc", "ip": "kernel-ipc"}))
    return [sys.executable, "-m", "autograder.host.kernel_launch", str(tmp_path / "argv.json"),
            str(tmp_path / "inside.json"), str(tmp_path / "connection.json")]


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_kernel_ends_when_its_grader_is_killed_after_the_launcher_started(tmp_path):
    grader = subprocess.Popen([sys.executable, "-c", GRADER, "", *_launcher(tmp_path, ["/bin/sleep", "600"])],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    launched = int(grader.stdout.readline())
    try:
        assert _wait_for(lambda: Path(f"/proc/{launched}/cmdline").read_bytes().startswith(b"/bin/sleep"), 30)
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        assert _wait_for(lambda: not _running(launched), 10), "the kernel outlived the grader that started it"
    finally:
        grader.kill()
        if _running(launched):
            os.kill(launched, signal.SIGKILL)


def test_a_launcher_whose_grader_has_already_ended_starts_nothing(tmp_path):
    """Its parent is not the grader jupyter_client named: that grader died before the launcher ran."""
    marker = tmp_path / "started"
    gone = subprocess.Popen(["true"])
    gone.wait()
    grader = subprocess.run([sys.executable, "-c", GRADER.replace("time.sleep(600)", "launcher.wait()"),
                             str(gone.pid), *_launcher(tmp_path, ["/usr/bin/touch", str(marker)])],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "has ended: not starting it" in grader.stderr
    assert not marker.exists() and not (tmp_path / "inside.json").exists()


def test_a_launcher_with_its_grader_alive_starts_the_kernel(tmp_path):
    marker = tmp_path / "started"
    grader = subprocess.run([sys.executable, "-c", GRADER.replace("time.sleep(600)", "launcher.wait()"),
                             "", *_launcher(tmp_path, ["/usr/bin/touch", str(marker)])],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert grader.returncode == 0, grader.stderr
    assert marker.exists() and (tmp_path / "inside.json").exists()


def test_a_temporary_folder_too_deep_for_the_kernels_sockets_is_refused_saying_to_set_tmpdir(tmp_path):
    """Unix sockets' paths hold 107 bytes: a deep TMPDIR used to fail every kernel with a missing file."""
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", str(RELEASE_NOTEBOOK)],
                            cwd=ROOT, env={**os.environ, "TMPDIR": str(deep)}, capture_output=True,
                            text=True, timeout=120)
    assert graded.returncode == 2, graded.stdout + graded.stderr
    assert f"the temporary folder {deep} is too long a path" in graded.stderr
    assert "set TMPDIR to a shorter folder" in graded.stderr
    assert not list(deep.iterdir())  # refused before any scratch folder was made
