"""The parts of class grading that need no cluster and no kernel: sizing, fair CPU, the replayed
pipeline, fingerprints and ``--only-new``, the report, what a worker lacks, and grade-all's exit codes."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from autograder.host.collect import RECORD_NAME, already_graded
from autograder.host.preprocessors import replay_pipeline
from autograder.host.report import ClassSummary, GradeReport, Outcome
from autograder.host.settings import THREAD_VARIABLES, SafeGrading
from autograder.host.task import fingerprint, pack_submission, submission_files, worker_problems
from tests.helpers import ROOT


@pytest.fixture(autouse=True)
def machine_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """grade-all's check of the machine passes (tests/test_doctor.py): these tests are about the rest."""
    monkeypatch.setattr("autograder.host.doctor.diagnose", lambda *a, **k: [])


def test_a_local_cluster_has_as_many_workers_as_the_cores_hold_at_each_kernels_threads(monkeypatch):
    from autograder.host.cluster import local_cluster_size

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert local_cluster_size(SafeGrading())[0] == 8
    assert local_cluster_size(SafeGrading(kernel_threads=2))[0] == 4
    assert local_cluster_size(SafeGrading(kernel_threads=16))[0] == 1
    workers, memory = local_cluster_size(SafeGrading(workers=3))
    import psutil

    assert workers == 3 and memory == psutil.virtual_memory().total // 3


def test_each_kernel_and_judge_is_told_its_share_of_threads():
    env = SafeGrading(kernel_threads=2, tensorflow_log_level=3).environment()
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert {name: env[name] for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "2")


def test_a_students_own_lab_kernel_keeps_every_core(tmp_path):
    from autograder.tools.lab import lab_env

    env = lab_env(ROOT, tmp_path, base={"PATH": "/usr/bin"})
    assert not set(THREAD_VARIABLES) & set(env) and env["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_the_collector_runs_the_courses_pipeline_with_the_grading_steps_replayed():
    from traitlets.config.loader import PyFileConfigLoader

    course = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    steps = list(course.Autograde.autograde_preprocessors)
    replayed = replay_pipeline(steps)
    assert replayed[0] == "autograder.host.preprocessors.ReplayGraded"
    assert replayed[1:] == [s for s in steps if "autograder." not in s]  # nbgrader's own steps, in order


def test_a_pipeline_without_the_sandbox_is_refused_rather_than_replayed():
    with pytest.raises(ValueError, match="SandboxedExecute and CleanJudge"):
        replay_pipeline(["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.SaveAutoGrades"])


def _submitted(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "submitted" / "ada" / "hw"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_submission_is_packed_without_ignored_files_and_its_fingerprint_follows_its_content(tmp_path):
    folder = _submitted(tmp_path, **{"hw.ipynb": "{}", "timestamp.txt": "2026-11-01 10:00:00 UTC",
                                     "data/x.csv": "1,2", ".ipynb_checkpoints/hw-checkpoint.ipynb": "{}",
                                     "grading.json": "{}"})
    (folder / "secrets.txt").symlink_to("/etc/hostname")  # a host's file must not travel
    ignore = [".ipynb_checkpoints", "grading.json"]
    packed = pack_submission(folder, "ada", "hw", ignore)
    assert sorted(packed.files) == ["data/x.csv", "hw.ipynb", "timestamp.txt"]
    assert packed.fingerprint == fingerprint(submission_files(folder, ignore))
    (folder / "timestamp.txt").write_text("2026-11-02 10:00:00 UTC")  # submitted again
    assert pack_submission(folder, "ada", "hw", ignore).fingerprint != packed.fingerprint


@pytest.mark.parametrize(("record", "graded"), [
    ({"fingerprint": "abc", "failed": False}, True),
    ({"fingerprint": "abc", "failed": True}, False),   # could not be graded: try again
    ({"fingerprint": "old", "failed": False}, False),  # resubmitted since
    (None, False),                                     # never graded by grade-all
])
def test_only_new_skips_exactly_the_submissions_graded_unchanged(tmp_path, record, graded):
    if record is not None:
        (tmp_path / RECORD_NAME).write_text(json.dumps(record))
    assert already_graded(tmp_path, "abc") is graded


def _summary() -> ClassSummary:
    ok = Outcome("ada", GradeReport(21.5, 27.0), seconds=61.24, worker="tcp://10.0.0.2:40000")
    lost = Outcome("bob", problems=["the Dask worker grading it died, and so did the one it was retried on"],
                   failed=True)
    return ClassSummary([ok, lost], seconds=70, workers=2)


def test_the_report_is_one_row_per_student_in_csv_or_json(tmp_path):
    summary = _summary()
    summary.write(tmp_path / "report.csv")
    rows = list(csv.DictReader((tmp_path / "report.csv").open()))
    assert [(r["student"], r["score"], r["seconds"], r["failed"]) for r in rows] == [
        ("ada", "21.5", "61.2", "False"), ("bob", "", "0.0", "True")]
    assert "died" in rows[1]["problems"]
    summary.write(tmp_path / "report.json")
    assert [r["score"] for r in json.loads((tmp_path / "report.json").read_text())] == [21.5, None]


def test_the_summary_says_how_many_could_not_be_graded_and_marks_them():
    lines = _summary().lines()
    assert "1 not graded" in lines[0]
    assert "NOT GRADED" in next(line for line in lines if "bob" in line)


def test_a_worker_names_what_it_lacks_and_how_to_provide_it(monkeypatch, tmp_path):
    from autograder.host import task
    from autograder.host.sandbox import SandboxUnavailable

    def no_sandbox():
        raise SandboxUnavailable("bubblewrap (bwrap) and prlimit are needed; install them with apt-get")

    monkeypatch.setattr(task, "tools", no_sandbox)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    problems = worker_problems("not-this-version")
    assert len(problems) == 3
    assert "bubblewrap" in problems[0]
    assert "prepare-data" in problems[1] and str(tmp_path) in problems[1]
    assert "install the same version of the package on every worker" in problems[2]


def _course_with_submission(tmp_path: Path) -> Path:
    import shutil

    course = tmp_path / "course"
    (course / "submitted" / "ada" / "mnist_batch_size").mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def test_grade_all_exits_1_when_a_submission_could_not_be_graded_and_writes_the_report(
        tmp_path, monkeypatch, capsys):
    from autograder.__main__ import main

    monkeypatch.setattr("autograder.host.classroom.grade_all", lambda *a, **k: _summary())
    assert main(["grade-all", str(_course_with_submission(tmp_path)),
                 "--report", str(tmp_path / "r.csv")]) == 1
    assert "NOT GRADED" in capsys.readouterr().out and (tmp_path / "r.csv").is_file()


def test_grade_all_passes_the_students_the_only_new_flag_and_the_scheduler_on(tmp_path, monkeypatch):
    from autograder.__main__ import main

    seen = {}

    def fake(course, assignment, settings, overrides=None, students=(), only_new=False):
        seen.update(students=students, only_new=only_new, scheduler=settings.scheduler,
                    threads=settings.kernel_threads)
        return ClassSummary()

    monkeypatch.setattr("autograder.host.classroom.grade_all", fake)
    assert main(["grade-all", str(_course_with_submission(tmp_path)), "--student", "ada,bob",
                 "--student", "cy", "--only-new", "--scheduler", "tcp://10.0.0.5:8786",
                 "--kernel-threads", "2"]) == 0
    assert seen == {"students": ["ada", "bob", "cy"], "only_new": True,
                    "scheduler": "tcp://10.0.0.5:8786", "threads": 2}


def test_an_unknown_student_is_named_with_the_students_who_submitted(tmp_path, monkeypatch, capsys):
    from autograder.__main__ import main

    monkeypatch.setattr("autograder.host.classroom.tools", lambda: ("bwrap", "prlimit"))
    course = _course_with_submission(tmp_path)
    monkeypatch.setattr("autograder.host.classroom.assignment_notebooks", lambda *a: ["mnist_batch_size"])
    assert main(["grade-all", str(course), "--student", "zed"]) == 2
    assert "no submission from zed (students with one: ada)" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_named_with_how_to_start_one(tmp_path, monkeypatch):
    from autograder.host import cluster
    from autograder.host.course import GradingError
    from tests.helpers import free_port

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 0.5)  # nothing listens: no need to wait long
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(GradingError, match="cannot reach the Dask scheduler at .*`dask scheduler`"):
        with cluster.dask_client(SafeGrading(scheduler=address)):
            pass


def test_a_copied_course_keeps_to_itself_whatever_root_and_gradebook_the_original_names(tmp_path):
    """A generated course (the workers' bundle, a throwaway course) never writes to the real one."""
    from autograder.host.course import own_config
    from autograder.host.settings import course_config, db_url

    original = ('c = get_config()  # noqa: F821\nc.CourseDirectory.root = "/srv/real-course"\n'
                'c.CourseDirectory.db_url = "postgresql://grader@db/real"\n')
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "nbgrader_config.py").write_text(own_config(original))
    config = course_config(copy)
    assert config.CourseDirectory.root == str(copy)
    assert db_url(copy, config) == f"sqlite:///{copy / 'gradebook.db'}"


def test_ctrl_c_while_grading_is_remembered_even_when_its_keyboardinterrupt_is_swallowed() -> None:
    import signal

    from autograder.host.classroom import _ctrl_c_remembered

    before = signal.getsignal(signal.SIGINT)
    with _ctrl_c_remembered() as ctrl_c:
        try:  # a library that catches KeyboardInterrupt and carries on
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        assert ctrl_c.is_set()
    assert signal.getsignal(signal.SIGINT) is before  # pytest's own handler is back
