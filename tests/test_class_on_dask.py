"""A class graded on Dask distributed, as an instructor would run it.

A real ``LocalCluster`` and separately started ``dask scheduler`` / ``dask worker`` processes
give every cell the grade that sequential ``nbgrader autograde`` gives; ``--only-new`` skips
what is graded and unchanged; a worker killed mid-task is retried once on another worker, and
a task whose second worker dies too is reported, with nothing left running; Ctrl-C stops a run,
keeps what was graded, and ``--only-new`` finishes it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook, submit
from autograder.host.settings import db_url
from autograder.tools.samples import cell_sources, replace_cells
from tests.dask_cluster import DaskProcesses
from tests.helpers import (
    ASSIGNMENT,
    RELEASE_NOTEBOOK,
    ROOT,
    SOURCE_NOTEBOOK,
    grading_settings,
    private_tmpdir,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

TRAINING = ["main_run", "exercise6_run", "long_run", "exercise7_run"]
LIMITS = {"timeout": 120}


@pytest.fixture(scope="module")
def class_course(tmp_path_factory) -> Path:
    """A course with two submissions: a blank one, and real work with the training left undone."""
    work = tmp_path_factory.mktemp("dask-class")
    course = work / "course"
    make_course(course)
    release = cell_sources(RELEASE_NOTEBOOK)
    partial = replace_cells(SOURCE_NOTEBOOK, {c: release[c] for c in TRAINING}, work / "partial.ipynb")
    submit(course, ASSIGNMENT, "blank", RELEASE_NOTEBOOK)
    submit(course, ASSIGNMENT, "partial", partial)
    return course


def _copy(course: Path, to: Path) -> Path:
    shutil.copytree(course, to)
    return to


def _grades(course: Path) -> dict[str, list[tuple[str, float, float]]]:
    url = db_url(course)
    return {s: scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, s) for s in ("blank", "partial")}


@pytest.fixture(scope="module")
def sequential(class_course: Path, tmp_path_factory) -> dict:
    """The grades of plain sequential ``nbgrader autograde`` (the course's safe pipeline, one at a time)."""
    course = _copy(class_course, tmp_path_factory.mktemp("sequential") / "course")
    run_nbgrader(course, "autograde", ASSIGNMENT, "--force", "--SafeGrading.timeout=120")
    grades = _grades(course)
    assert sum(points for _, points, _ in grades["partial"]) > 0  # real work earns points
    return grades


def test_a_local_cluster_gives_the_grades_of_sequential_nbgrader_and_only_new_skips_them(
        class_course, sequential, tmp_path):
    from autograder.host.classroom import grade_all

    course = _copy(class_course, tmp_path / "course")
    summary = grade_all(course, ASSIGNMENT, grading_settings(course, workers=2, **LIMITS), progress=False)
    assert summary.workers == 2 and not summary.failed
    assert _grades(course) == sequential
    for student in ("blank", "partial"):
        folder = course / "autograded" / student / ASSIGNMENT
        assert (folder / f"{ASSIGNMENT}.ipynb").is_file()
        assert "score:" in (folder / "grading.log").read_text()

    again = grade_all(course, ASSIGNMENT, grading_settings(course, workers=2, **LIMITS), progress=False,
                      only_new=True)
    assert sorted(again.skipped) == ["blank", "partial"] and again.outcomes == []

    (course / "submitted" / "blank" / ASSIGNMENT / "timestamp.txt").write_text("2026-11-28 10:00:00 UTC")
    resubmitted = grade_all(course, ASSIGNMENT, grading_settings(course, workers=1, **LIMITS),
                            progress=False, only_new=True)
    assert [o.student for o in resubmitted.outcomes] == ["blank"] and resubmitted.skipped == ["partial"]
    assert _grades(course) == sequential


def test_separately_started_dask_scheduler_and_workers_give_the_same_grades(class_course, sequential,
                                                                             tmp_path):
    from autograder.host.classroom import grade_all

    course = _copy(class_course, tmp_path / "course")
    with DaskProcesses(workers=2) as cluster:
        settings = grading_settings(course, scheduler=cluster.address, **LIMITS)
        summary = grade_all(course, ASSIGNMENT, settings, progress=False)
    assert summary.workers == 2 and not summary.failed
    assert all(o.worker.startswith("tcp://127.0.0.1:") for o in summary.outcomes)
    assert _grades(course) == sequential


def _sleeper(path: Path, seconds: int) -> Path:
    """The blank release with a first cell that sleeps: a task that is still running when killed."""
    nb = nbformat.read(RELEASE_NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
    nbformat.write(nb, path)
    return path


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The TMPDIR of this test's graders (its Dask workers, its grade-all): their kernels' and
    judges' scratch folders are made in it, so their command lines name it."""
    with private_tmpdir(monkeypatch) as folder:
        yield folder


def _grading_processes(scratch: Path) -> set[int]:
    """This test's sandboxed kernels and judges (what a dead worker must not leave): every process
    whose command line names ``scratch`` (bwrap, the kernel's launcher, ipykernel), and their children
    (the judge). Other tests' gradings, running beside this one, are not counted."""
    tagged = set()
    for proc in psutil.process_iter(["cmdline"]):
        if f"{scratch}/" in " ".join(proc.info.get("cmdline") or []):
            tagged.add(proc)
    found = {proc.pid for proc in tagged}
    for proc in tagged:
        try:
            found |= {child.pid for child in proc.children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
    return found


def _kill_one_mid_task(watcher, seen: dict, killed: dict[str, list[str]], kills: dict[str, int]) -> None:
    """SIGKILL the worker of one task that has run 8 s or more there and whose student has kills left.

    Only a worker holding that task alone: a task waiting on a worker dies with it too, which
    would count as a death for that one as well.
    """
    for worker, keys in watcher.processing().items():
        grading = [str(k) for k in keys if str(k).startswith("grade-")]
        for key in grading if len(grading) == 1 else []:
            student = key.split("-")[1]
            first = seen.setdefault((key, worker), time.monotonic())
            if len(killed[student]) < kills[student] and time.monotonic() - first > 8:
                pid = watcher.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed[student].append(worker)
                return


def test_a_worker_killed_mid_task_is_retried_once_then_reported(tmp_path, scratch):
    """Kill the worker grading ``once`` (it is retried and graded) and, twice, the one grading ``twice``."""
    from distributed import Client

    from autograder.host.classroom import grade_all

    course = tmp_path / "course"
    make_course(course)
    for student in ("once", "twice"):
        submit(course, ASSIGNMENT, student, _sleeper(tmp_path / f"{student}.ipynb", 15))
    kills = {"once": 1, "twice": 2}
    before = _grading_processes(scratch)
    killed: dict[str, list[str]] = {"once": [], "twice": []}
    done: dict = {}
    with DaskProcesses(workers=2, logs=tmp_path / "dask-logs") as cluster:
        settings = grading_settings(course, scheduler=cluster.address, **LIMITS)
        thread = threading.Thread(target=lambda: done.update(
            summary=grade_all(course, ASSIGNMENT, settings, progress=False)))
        thread.start()
        seen: dict[tuple[str, str], float] = {}
        most_running = 0  # the check below must see this test's kernels while they run
        with Client(cluster.address) as watcher:
            deadline = time.monotonic() + 600
            while thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.5)
                most_running = max(most_running, len(_grading_processes(scratch)))
                if len(watcher.scheduler_info()["workers"]) < 2:
                    continue  # one death at a time: wait for the nanny to restart the last one killed
                _kill_one_mid_task(watcher, seen, killed, kills)
        thread.join(timeout=60)
    outcomes = {o.student: o for o in done["summary"].outcomes}
    assert [len(killed["once"]), len(killed["twice"])] == [1, 2]
    assert not outcomes["once"].failed and outcomes["once"].report.max_score == 27
    assert outcomes["once"].worker not in killed["once"]  # graded by another worker
    assert outcomes["twice"].failed and "died" in outcomes["twice"].problems[0]
    assert [o.student for o in done["summary"].failed] == ["twice"]
    assert "died" in (course / "autograded" / "twice" / ASSIGNMENT / "grading.log").read_text()
    time.sleep(2)
    assert most_running >= 2 and not _grading_processes(scratch) - before


def _recorded(course: Path) -> set[str]:
    return {p.parents[1].name for p in (course / "autograded").glob(f"*/{ASSIGNMENT}/grading.json")}


def test_ctrl_c_stops_grade_all_keeps_what_was_graded_and_only_new_grades_the_rest(tmp_path, scratch):
    """Ctrl-C in the terminal (SIGINT to the whole process group) while a submission is graded."""
    course = tmp_path / "course"
    make_course(course)
    students = ["a", "b", "c"]
    for student in students:
        submit(course, ASSIGNMENT, student, _sleeper(tmp_path / f"{student}.ipynb", 12))
    before = _grading_processes(scratch)
    command = [sys.executable, "-m", "autograder", "grade-all", str(course), "--workers", "1",
               "--timeout", "120"]
    run = subprocess.Popen(command, cwd=ROOT, start_new_session=True, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not _recorded(course) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(5)  # the next submission is being graded now
    assert run.poll() is None, f"grade-all ended before Ctrl-C was pressed:\n{run.communicate()[0]}"
    assert _grading_processes(scratch) - before, "this test's kernel is not found while it runs"
    os.killpg(run.pid, signal.SIGINT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 130, output
    assert "interrupted: what was graded is recorded; run again with --only-new" in output
    graded = _recorded(course)
    assert 1 <= len(graded) < len(students), output
    for student in graded:
        record = json.loads((course / "autograded" / student / ASSIGNMENT / "grading.json").read_text())
        assert not record["failed"] and record["score"] == 0
    time.sleep(2)
    assert not _grading_processes(scratch) - before  # no kernel or judge left behind

    from autograder.host.classroom import grade_all

    rest = grade_all(course, ASSIGNMENT, grading_settings(course, workers=2, **LIMITS), progress=False,
                     only_new=True)
    assert sorted(rest.skipped) == sorted(graded) and not rest.failed
    assert sorted(o.student for o in rest.outcomes) == sorted(set(students) - graded)
    assert _recorded(course) == set(students)
