"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Started as an instructor would on other machines (docs/instructors-guide.md, "Grading on
other machines"), only all on this one: the scheduler retries a task once when its worker dies
(``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1``) and gives each worker one task at a time
(``..._WORKER_SATURATION=1.0``); each worker grades one submission at a time under a nanny that
restarts it if it dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import free_port

DASK = str(Path(sys.executable).parent / "dask")


class DaskProcesses:
    """``dask scheduler`` and ``workers`` x ``dask worker``, stopped (process groups killed) on exit."""

    def __init__(self, workers: int = 2, logs: Path | None = None):
        self.workers, self.logs = workers, logs
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs: list[subprocess.Popen] = []

    def _start(self, *args: str) -> None:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
               "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
        out = subprocess.DEVNULL
        if self.logs is not None:  # one file per process: the scheduler's, then each worker's
            self.logs.mkdir(parents=True, exist_ok=True)
            out = (self.logs / f"{len(self.procs)}-{args[0]}.log").open("w")
        self.procs.append(subprocess.Popen([DASK, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def __enter__(self) -> DaskProcesses:
        from distributed import Client

        port = self.address.rsplit(":", 1)[1]
        self._start("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
        for _ in range(self.workers):
            self._start("worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                        "--no-dashboard", "--memory-limit", "6GiB")
        try:
            with Client(self.address, timeout=60) as client:
                client.wait_for_workers(self.workers, timeout=120)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
