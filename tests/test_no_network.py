"""The graded kernel has no network: not even a server on the host's 127.0.0.1 can be reached.

The sandbox gets a network namespace of its own (bubblewrap's ``--unshare-net``) and nbgrader
talks to the kernel over Unix sockets.  A server listens on 127.0.0.1 while a notebook that
tries to connect to it is graded: it accepts nothing, the notebook's attempt fails with a
network error, and the attempt earns nothing over its honest twin (the same work without it).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from autograder.host.kernel_launch import launch
from autograder.host.preprocessors import SandboxedExecute
from autograder.host.report import GradeReport
from autograder.host.sandbox import Limits, connection, environment, kernel_argv
from autograder.host.settings import course_config
from autograder.tools.samples import cell_sources, replace_cells
from tests.helpers import ASSIGNMENT, ROOT, SOURCE_NOTEBOOK, grading_settings


@contextmanager
def listening() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1, in a thread: its port, and what each connection it accepted sent."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    accepted.append(conn.recv(1024))
                except OSError:
                    accepted.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        server.close()


def attempt(port: int) -> str:
    """Notebook code that connects to ``port`` on 127.0.0.1 and sends a line, printing what happened."""
    return ("import socket\n"
            "try:\n"
            f"    with socket.create_connection(('127.0.0.1', {port}), timeout=2) as leak:\n"
            "        leak.sendall(b'evidence from the graded kernel\\n')\n"
            "    print('CONNECTED')\n"
            "except OSError as exc:\n"
            "    print('NO NETWORK:', type(exc).__name__, exc)\n")


def test_the_sandbox_has_no_network_and_nbgrader_reaches_the_kernel_over_unix_sockets(tmp_path: Path):
    runtime = tmp_path / "runtime"
    argv = kernel_argv(tmp_path, tmp_path, tmp_path, runtime, Limits(memory_bytes=2 * 1024**3),
                       environment({}))
    assert "--unshare-net" in argv[:argv.index("--remount-ro")]  # a bwrap option, before the kernel
    assert connection(runtime) == {"transport": "ipc", "ip": str(runtime / "kernel-ipc")}
    tcp = tmp_path / "tcp.json"
    tcp.write_text(json.dumps({"transport": "tcp", "ip": "127.0.0.1"}))
    with pytest.raises(SystemExit, match="has no network"):  # the launcher refuses a TCP connection
        launch(str(tmp_path / "argv.json"), str(tmp_path / "inside.json"), str(tcp))


def test_a_kernel_run_by_sandboxed_execute_cannot_connect_to_127_0_0_1(tmp_path: Path):
    """The real SandboxedExecute, one cell: the kernel was reached over ipc; the server accepted nothing."""
    step = SandboxedExecute(config=course_config(ROOT))
    with listening() as (port, accepted):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(attempt(port))])
        nb, resources = step.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    state = resources["autograder"]
    try:
        state["judge"].close()
        runtime = state["scratch"] / "runtime"
        inside = json.loads((runtime / "connection.json").read_text())
        assert (inside["transport"], inside["ip"]) == ("ipc", str(runtime / "kernel-ipc"))
    finally:
        shutil.rmtree(state["scratch"], ignore_errors=True)
    assert accepted == []
    outputs = nb.cells[0].outputs
    assert outputs[0]["text"].startswith("NO NETWORK: ConnectionRefusedError"), outputs


FIRST = "sizes_and_scale"  # the first cell the student completes


@pytest.mark.slow
@pytest.mark.usefixtures("prepared_mnist")
@pytest.mark.timeout(1200)
def test_a_graded_notebook_cannot_reach_a_server_on_127_0_0_1_and_earns_no_more_than_its_twin(tmp_path: Path):
    """The reference solution, and the same with a connection attempt atop its first cell, graded together."""
    from autograder.host.classroom import grade_all
    from autograder.host.course import make_course, submit

    course = tmp_path / "course"
    make_course(course)
    solution = cell_sources(SOURCE_NOTEBOOK)
    with listening() as (port, accepted):
        attack = {FIRST: attempt(port) + "\n" + solution[FIRST]}
        submit(course, ASSIGNMENT, "honest", SOURCE_NOTEBOOK)
        notebook = replace_cells(SOURCE_NOTEBOOK, attack, tmp_path / "connects.ipynb")
        submit(course, ASSIGNMENT, "connects", notebook)
        settings = grading_settings(course, timeout=240, workers=2)
        summary = grade_all(course, ASSIGNMENT, settings, progress=False)
        print("\n".join(summary.lines()))
    assert accepted == []
    reports: dict[str, GradeReport] = {o.student: o.report for o in summary.outcomes}
    honest = {c.grade_id: c.points for c in reports["honest"].cells}
    connects = {c.grade_id: c.points for c in reports["connects"].cells}
    assert reports["honest"].score > 0
    assert {g: (connects[g], honest[g]) for g in honest if connects[g] > honest[g] + 1e-9} == {}
    graded = nbformat.read(course / "autograded" / "connects" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    cell = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == FIRST)
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert "NO NETWORK: ConnectionRefusedError" in text and "CONNECTED" not in text, cell.outputs
    assert not any(o.get("output_type") == "error" for o in cell.outputs)  # the cell went on with the work
