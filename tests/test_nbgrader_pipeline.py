"""The course's nbgrader pipeline: nbgrader's own steps, with the sandbox and the judge in Execute's place."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from autograder.host.preprocessors import CheckSubmission, CleanJudge, SandboxedExecute
from autograder.host.sandbox import (
    ENVIRONMENT,
    Limits,
    copy_handed_in,
    environment,
    judge_argv,
    kernel_argv,
    trained_files,
)
from autograder.host.settings import course_config
from tests.helpers import ROOT

SAFE = "autograder.host.preprocessors."


def _stock(trait: str) -> list[str]:
    """nbgrader's default list of preprocessors, as import names."""
    return [f"{s.__module__.split('.')[0]}.preprocessors.{s.__name__}"
            for s in Autograde.class_traits()[trait].default()]


def test_autograding_is_nbgraders_pipeline_with_only_execute_replaced_and_the_judge_after_it():
    config = course_config(ROOT)
    stock = _stock("autograde_preprocessors")
    ours = list(config.Autograde.autograde_preprocessors)
    assert stock[0] == "nbgrader.preprocessors.Execute"
    assert ours == [SAFE + "SandboxedExecute", SAFE + "CleanJudge", *stock[1:]]


def test_sanitizing_is_nbgraders_with_the_submission_looked_at_first():
    config = course_config(ROOT)
    stock = _stock("sanitize_preprocessors")
    assert list(config.Autograde.sanitize_preprocessors) == [SAFE + "CheckSubmission", *stock]


def test_the_sandboxed_execute_keeps_every_setting_of_nbgraders_execute():
    """c.Execute.timeout and the other Execute settings in nbgrader_config.py still apply."""
    assert issubclass(SandboxedExecute, Execute)
    step = SandboxedExecute(config=course_config(ROOT))
    assert step.timeout == 150 and step.interrupt_on_timeout and not step.raise_on_iopub_timeout
    assert CheckSubmission.enabled.default_value and CleanJudge.enabled.default_value


def test_the_judge_refuses_to_run_without_the_sandbox_before_it():
    with pytest.raises(RuntimeError, match="SandboxedExecute before it"):
        CleanJudge().preprocess(None, {"nbgrader": {}})


def test_trained_models_and_arrays_beside_the_notebook_are_found_and_data_files_are_not(tmp_path: Path):
    for name in ("model_100.keras", "weights.h5", "ckpt/model.data-00000-of-00001", "x.npz", "notes.csv",
                 "history.json", "plot.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"1234")
    assert [p.relative_to(tmp_path).as_posix() for p in trained_files(tmp_path)] == [
        "ckpt/model.data-00000-of-00001", "model_100.keras", "weights.h5", "x.npz"]


def probe_in_sandbox(argv: list[str], python: int, probe: str, env: dict | None = None):
    """Run ``probe`` with the sandbox's Python (``argv[python]``) in place of the kernel or the judge."""
    return subprocess.run([*argv[:python + 1], "-c", probe], capture_output=True, text=True, timeout=60,
                          env=env or {})


def test_in_the_sandbox_a_handed_in_model_reads_empty_and_nothing_it_makes_reaches_its_folder(tmp_path):
    # The submission's folder outside /tmp (the sandbox has a private /tmp), as a course's is.
    course = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir="/var/tmp"))
    workdir, handed_in = course / "autograded", tmp_path / "handed-in"
    evidence, runtime = tmp_path / "evidence", tmp_path / "runtime"
    for folder in (workdir, evidence, runtime):
        folder.mkdir()
    (workdir / "model_100.keras").write_bytes(b"trained elsewhere")
    (workdir / "notes.csv").write_bytes(b"1,2,3")
    (workdir / "solution.ipynb").symlink_to(course / "secret.txt")
    (course / "secret.txt").write_text("the instructor's")
    assert copy_handed_in(workdir, handed_in) == ["solution.ipynb"]
    env = environment({})
    argv = kernel_argv(workdir, handed_in, evidence, runtime, Limits(memory_bytes=2 * 1024**3), env)
    probe = ("import os\nprint(os.path.getsize('model_100.keras'), open('notes.csv').read(), "
             "os.path.exists('solution.ipynb'))\n"
             "open('made_here.txt', 'w').write('ok')\nos.symlink('/etc/passwd', 'loot.html')\n"
             "for path in (os.path.dirname(os.getcwd()) + '/gradebook.db', '/usr/lib/planted'):\n"
             "    try:\n        open(path, 'w')\n"
             "    except OSError as exc:\n        print(exc.errno)\n")
    try:
        out = probe_in_sandbox(argv, argv.index("-m") - 1, probe)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["0", "1,2,3", "False", "30", "30"]  # 30: EROFS, a read-only file system
        # It worked in a private copy: nothing it made (a file, a link) is in the submission's folder.
        assert sorted(p.name for p in workdir.iterdir()) == ["model_100.keras", "notes.csv", "solution.ipynb"]
        assert not (course / "gradebook.db").exists()
    finally:
        shutil.rmtree(course)


def test_the_sandbox_gets_only_the_allowed_environment_and_a_file_size_limit(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET", "s3cr3t")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token-of-the-instructor")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ValueError, match="JUPYTERHUB_API_TOKEN may not reach the sandbox"):
        environment({"JUPYTERHUB_API_TOKEN": "x"})
    handed_in, runtime = tmp_path / "handed-in", tmp_path / "runtime"
    for folder in (handed_in, runtime):
        folder.mkdir()
    limits = Limits(memory_bytes=2 * 1024**3, disk_bytes=4 * 1024**2)
    argv = kernel_argv(tmp_path / "work", handed_in, runtime, runtime, limits, environment({}))
    probe = ("import json, os\nprint(json.dumps(dict(os.environ)))\n"
             "try:\n    open('big', 'wb').write(b'x' * 5 * 1024**2)\n"
             "except OSError as exc:\n    print(exc.errno)\n")
    out = probe_in_sandbox(argv, argv.index("-m") - 1, probe, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    seen, errno = out.stdout.splitlines()
    env = json.loads(seen)
    assert set(env) <= ENVIRONMENT and env["NBGRADER_EXECUTION"] == "autograde", env
    assert "s3cr3t" not in out.stdout and "token-of-the-instructor" not in out.stdout
    assert errno == "27"  # EFBIG: over the file size limit


def test_the_judge_runs_sandboxed_with_the_evidence_read_only_and_no_course(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET", "s3cr3t")
    course = Path(tempfile.mkdtemp(prefix="judge-test-", dir="/var/tmp"))
    evidence, requests = tmp_path / "evidence", tmp_path / "requests"
    for folder in (evidence, requests):
        folder.mkdir()
    (course / "gradebook.db").write_text("grades")
    (evidence / "x.json").write_text('{"value": 1}')
    argv = judge_argv(evidence, requests, Limits(memory_bytes=2 * 1024**3), environment({}))
    probe = ("import os, socket\nprint('INSTRUCTOR_SECRET' in os.environ, "
             f"os.path.exists({str(course)!r}), open({str(evidence / 'x.json')!r}).read())\n"
             "for attempt in (lambda: open(" + repr(str(evidence / "planted.json")) + ", 'w'),\n"
             "                lambda: socket.create_connection(('127.0.0.1', 22), 2)):\n"
             "    try:\n        attempt()\n        print('ALLOWED')\n"
             "    except OSError as exc:\n        print(type(exc).__name__)\n")
    try:
        out = probe_in_sandbox(argv, argv.index("autograder.judge") - 2, probe)
    finally:
        shutil.rmtree(course)
    assert out.returncode == 0, out.stderr
    # No secret, no course, the evidence readable but not writable, no network (refused at once).
    assert out.stdout.split("\n")[:3] == ['False False {"value": 1}', "OSError", "ConnectionRefusedError"]
    assert not (evidence / "planted.json").exists()
