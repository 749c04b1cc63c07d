"""The course's nbgrader pipeline: nbgrader's own steps, with the sandbox and the judge in Execute's place."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from autograder.host.preprocessors import CheckSubmission, CleanJudge, SandboxedExecute
from autograder.host.sandbox import Limits, kernel_argv, trained_files
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


def test_in_the_sandbox_a_handed_in_model_reads_empty_and_only_its_own_folder_is_writable(tmp_path: Path):
    # The submission's folder outside /tmp (the sandbox has a private /tmp), as a course's is.
    course = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir="/var/tmp"))
    workdir, evidence, runtime = course / "autograded", tmp_path / "evidence", tmp_path / "runtime"
    for folder in (workdir, evidence, runtime):
        folder.mkdir()
    (workdir / "model_100.keras").write_bytes(b"trained elsewhere")
    (workdir / "notes.csv").write_bytes(b"1,2,3")
    argv = kernel_argv(workdir, evidence, runtime, Limits(memory_bytes=2 * 1024**3))
    python = argv.index("-m") - 1  # run a probe instead of the kernel, with the same sandbox
    probe = ("import os\nprint(os.path.getsize('model_100.keras'), open('notes.csv').read())\n"
             "open('made_here.txt', 'w').write('ok')\n"
             "for path in (os.path.dirname(os.getcwd()) + '/gradebook.db', '/usr/lib/planted'):\n"
             "    try:\n        open(path, 'w')\n"
             "    except OSError as exc:\n        print(exc.errno)\n")
    try:
        out = subprocess.run([*argv[:python + 1], "-c", probe], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["0", "1,2,3", "30", "30"]  # 30: EROFS, a read-only file system
        assert (workdir / "made_here.txt").read_text() == "ok"  # its own folder is the one it writes to
        assert not (course / "gradebook.db").exists()
    finally:
        shutil.rmtree(course)
