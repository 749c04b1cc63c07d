"""``mnist-autograder doctor``: every check grading needs, each failure made to happen for real.

A bwrap that cannot create namespaces, MNIST never prepared, an unreachable database, a Dask
worker without the data; and ``grade-all``, ``nbgrader autograde`` and the Formgrader's Autograde
button refusing, in one message and recording nothing, when the machine cannot grade.  The
judge never tries to download MNIST: without it, it says so at once.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.host.doctor import check_data, check_gradebook, check_sandbox, check_scheduler, diagnose
from autograder.host.settings import SafeGrading
from tests.helpers import RELEASE_NOTEBOOK, ROOT

pytestmark = pytest.mark.usefixtures("sandbox_tools")


@pytest.fixture
def sandbox_tools() -> None:
    if not (shutil.which("bwrap") and shutil.which("prlimit")):
        pytest.skip("bubblewrap and prlimit are not installed (make sandbox-tools)")


def _course(tmp_path: Path, db_url: str | None = None) -> Path:
    from autograder.host.course import own_config

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(own_config((ROOT / "nbgrader_config.py").read_text(), db_url))
    return course


def _by_name(findings) -> dict:
    return {f.name: f for f in findings}


def test_a_working_sandbox_has_no_network_and_imports_tensorflow() -> None:
    found = _by_name(check_sandbox(SafeGrading()))
    assert found["sandbox"].ok and found["no network"].ok and found["TensorFlow"].ok, found


def test_a_bwrap_that_cannot_create_namespaces_is_named_with_the_fix(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    (finding,) = check_sandbox(SafeGrading(), tensorflow=False)
    assert not finding.ok and "No permissions to create new namespace" in finding.detail
    assert "user namespaces" in finding.detail and "apparmor" in finding.detail.lower()


def test_a_bwrap_that_leaves_the_network_open_is_caught(tmp_path, monkeypatch) -> None:
    """A wrapper that drops --unshare-net: the sandboxed probe reaches a port on 127.0.0.1."""
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport os, sys\nreal = {shutil.which('bwrap')!r}\n"
                    "os.execv(real, [real] + [a for a in sys.argv[1:] if a != '--unshare-net'])\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    found = _by_name(check_sandbox(SafeGrading(), tensorflow=False))
    assert found["sandbox"].ok and not found["no network"].ok, found
    assert "--unshare-net" in found["no network"].detail


def test_mnist_never_prepared_is_named_with_how_to_prepare_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
    finding = check_data()
    assert not finding.ok and "python -m mnist_ref prepare-data" in finding.detail
    found = _by_name(check_sandbox(SafeGrading(), tensorflow=False))  # and the sandbox cannot see it either
    assert not found["MNIST in the sandbox"].ok


def test_an_unreachable_database_is_named_without_its_password(tmp_path) -> None:
    from tests.helpers import free_port

    course = _course(tmp_path, f"postgresql://grader:s3cret@127.0.0.1:{free_port()}/gradebook")
    started = time.monotonic()
    finding = check_gradebook(course)
    assert not finding.ok and "cannot reach" in finding.detail and "s3cret" not in finding.detail
    assert time.monotonic() - started < 30


def test_a_sqlite_gradebook_in_a_writable_course_is_fine(tmp_path) -> None:
    assert check_gradebook(_course(tmp_path)).ok


@pytest.mark.mnist
@pytest.mark.usefixtures("prepared_mnist")
def test_doctor_passes_on_a_machine_that_can_grade_and_says_so(tmp_path, capsys) -> None:
    from autograder.__main__ import main

    course = _course(tmp_path)
    (course / "exchange").mkdir()
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"c.Exchange.root = {str(course / 'exchange')!r}\n")
    assert main(["doctor", str(course)]) == 0
    out = capsys.readouterr().out
    assert "grading can work here" in out and "✘" not in out, out


def test_grade_all_refuses_in_one_message_and_records_nothing_when_the_machine_cannot_grade(
        tmp_path, monkeypatch, capsys) -> None:
    from autograder.__main__ import main

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
    course = _course(tmp_path)
    (course / "submitted" / "ada" / "mnist_batch_size").mkdir(parents=True)
    assert main(["grade-all", str(course)]) == 2
    err = capsys.readouterr().err
    assert "grading cannot work on this machine, nothing was graded" in err and "prepare-data" in err
    assert not (course / "gradebook.db").exists() and not (course / "autograded").exists()


@pytest.mark.slow
def test_a_dask_worker_without_the_data_is_named(tmp_path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env={"TFDS_DATA_DIR": str(tmp_path / "empty")}) as cluster:
        (finding,) = check_scheduler(SafeGrading(scheduler=cluster.scheduler_address))
    assert not finding.ok and "have no prepared MNIST" in finding.detail


def test_the_judge_without_mnist_says_so_at_once_instead_of_trying_to_download(tmp_path, monkeypatch) -> None:
    from autograder.judge import reference
    from mnist_ref.offline_data import DataPreparationError

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
    reference.test_sets.cache_clear()
    started = time.monotonic()
    with pytest.raises(DataPreparationError, match="grading never downloads it"):
        reference.test_sets()
    assert time.monotonic() - started < 5
    reference.test_sets.cache_clear()


def test_diagnose_before_grading_skips_what_grading_does_not_need(tmp_path) -> None:
    names = [f.name for f in diagnose(_course(tmp_path), SafeGrading(), before_grading=True)]
    assert "TensorFlow" not in names and "exchange" not in names and "sandbox" in names


@pytest.fixture
def ungradable_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course with ada's submission (and what an earlier grading left), on a machine without MNIST."""
    course = _course(tmp_path)
    handed_in = course / "submitted" / "ada" / "mnist_batch_size" / "mnist_batch_size.ipynb"
    handed_in.parent.mkdir(parents=True)
    shutil.copyfile(RELEASE_NOTEBOOK, handed_in)
    earlier = course / "autograded" / "ada" / "mnist_batch_size" / "earlier-grading.txt"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("what an earlier autograde left")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
    return course


def _nothing_recorded(course: Path) -> None:
    assert not (course / "gradebook.db").exists()  # no student, no submission, no grade
    assert [p.name for p in (course / "autograded" / "ada" / "mnist_batch_size").iterdir()] == [
        "earlier-grading.txt"]


def test_nbgrader_autograde_refuses_in_one_message_and_records_nothing_when_the_machine_cannot_grade(
        ungradable_course: Path) -> None:
    from autograder.host.course import nbgrader_env

    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "mnist_batch_size"],
                          cwd=ungradable_course, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0
    said = [line for line in proc.stderr.splitlines() if "grading cannot work on this machine" in line]
    assert len(said) == 1 and "prepare-data" in said[0] and "nothing was graded or recorded" in said[0]
    assert "Traceback" not in proc.stderr
    _nothing_recorded(ungradable_course)


def test_the_formgraders_autograde_refuses_in_one_message_and_records_nothing(ungradable_course: Path,
                                                                              monkeypatch) -> None:
    """What the Formgrader's Autograde button calls: NbGraderAPI.autograde, in the server's process."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from autograder.host.settings import course_config

    monkeypatch.chdir(ungradable_course)
    config = course_config(ungradable_course)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    answer = api.autograde("mnist_batch_size", "ada")
    assert answer["success"] is False
    said = [line for line in answer["log"].splitlines() if "grading cannot work on this machine" in line]
    assert len(said) == 1 and "MNIST" in said[0] and "prepare-data" in said[0]
    _nothing_recorded(ungradable_course)


def test_nbgraders_extensions_turned_off_for_this_user_are_named_with_the_fix(tmp_path, monkeypatch) -> None:
    from autograder.host.doctor import check_extensions

    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    assert check_extensions().ok  # as nbgrader installs itself: every extension on
    (tmp_path / "jupyter").mkdir()
    (tmp_path / "jupyter" / "jupyter_server_config.json").write_text(
        '{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false}}}')
    finding = check_extensions()
    assert not finding.ok and "nbgrader.server_extensions.formgrader not enabled" in finding.detail
    assert "mnist-autograder lab" in finding.detail and "jupyter-config" in finding.detail
