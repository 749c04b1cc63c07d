"""``python -m autograder``'s errors, and its settings read the nbgrader way (files, folders, flags)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.host.settings import (
    ConfigError,
    SafeGrading,
    command_line_config,
    course_config,
    db_url,
    load_settings,
)
from tests.helpers import ROOT, run_module


@pytest.fixture(autouse=True)
def machine_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """grade-all's check of the machine passes (tests/test_doctor.py): these tests are about the rest."""
    monkeypatch.setattr("autograder.host.doctor.diagnose", lambda *a, **k: [])


@pytest.fixture(autouse=True)
def user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Jupyter config folder in place of ~/.jupyter, so the user's settings never leak in."""
    folder = tmp_path / "jupyter-config"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(folder))
    return folder


def _config(folder: Path, config: str) -> Path:
    """``folder`` with an nbgrader_config.py holding ``config`` (after ``c = get_config()``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + config)
    return folder


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------ the command line's errors


def test_grade_all_on_a_folder_without_nbgrader_config_exits_2_naming_the_file(tmp_path: Path):
    """The real command line, in its own process (the other errors are checked in this one)."""
    proc = run_module("autograder", "grade-all", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    line = _one_line(proc.stderr)
    assert line.startswith("grade-all: ") and "it has no nbgrader_config.py" in line


def test_grade_with_a_stray_argument_exits_2_saying_what_settings_look_like(tmp_path: Path, capsys):
    from autograder.__main__ import main

    assert main(["grade", str(tmp_path / "x.ipynb"), "--bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _one_line(captured.err) == ("grade: unrecognised argument '--bogus'; settings look like "
                                       "--SafeGrading.timeout=600")


def test_grade_all_on_a_course_without_submissions_exits_2(tmp_path: Path, capsys, monkeypatch):
    from autograder.__main__ import main

    # grade-all first refuses to run without the sandbox's tools; here they need not be installed.
    monkeypatch.setattr("autograder.host.classroom.tools", lambda: ("bwrap", "prlimit"))
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    assert main(["grade-all", str(course)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _one_line(captured.err) == (f"grade-all: no submissions for 'mnist_batch_size' under "
                                       f"{course.resolve() / 'submitted'}")


def test_a_short_flag_with_a_non_number_is_refused_by_the_parser(tmp_path: Path, capsys):
    from autograder.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["grade", str(tmp_path / "x.ipynb"), "--timeout=abc"])
    assert exit_info.value.code == 2
    assert "argument --timeout: invalid float value: 'abc'" in capsys.readouterr().err


def test_a_setting_of_the_wrong_type_exits_2_with_one_line(tmp_path: Path, capsys):
    from autograder.__main__ import main

    course = _config(tmp_path / "course", "")
    assert main(["grade-all", str(course), "--SafeGrading.timeout=abc"]) == 2
    assert "timeout" in _one_line(capsys.readouterr().err)


# ------------------------------------------------------------------ where settings come from


def test_the_course_config_sets_the_limits(tmp_path: Path):
    course = _config(tmp_path / "course", "c.SafeGrading.timeout = 120\nc.SafeGrading.workers = 3\n")
    settings = load_settings(course)
    assert (settings.timeout, settings.workers, settings.worker_count) == (120, 3, 3)
    assert settings.memory_gb == SafeGrading().memory_gb  # unset: the default


def test_the_course_overrides_the_user_config_folder_and_the_command_line_overrides_both(
        tmp_path: Path, user_config_dir: Path):
    _config(user_config_dir, "c.SafeGrading.timeout = 90\nc.SafeGrading.memory_gb = 2\n")
    course = _config(tmp_path / "course", "c.SafeGrading.timeout = 120\n")
    from_files = load_settings(course)
    assert from_files.timeout == 120  # the course wins over ~/.jupyter
    assert from_files.memory_gb == 2  # what the course leaves unset still comes from ~/.jupyter
    flags = load_settings(course, command_line_config(["--SafeGrading.timeout=42"]))
    assert (flags.timeout, flags.memory_gb) == (42, 2)


def test_the_cell_limit_is_nbgraders_execute_timeout_capped_at_the_submission_timeout(tmp_path: Path):
    course = _config(tmp_path / "course", "c.Execute.timeout = 150\nc.SafeGrading.timeout = 300\n")
    assert load_settings(course).cell_limit == 150
    short = load_settings(course, command_line_config(["--SafeGrading.timeout=100"]))
    assert short.cell_limit == 100
    own = load_settings(course, command_line_config(["--SafeGrading.cell_timeout=20"]))
    assert own.cell_limit == 20


def test_without_execute_timeout_the_cell_limit_is_nbgraders_default(tmp_path: Path):
    from nbgrader.preprocessors import Execute

    assert load_settings(_config(tmp_path / "course", "")).cell_limit == Execute().timeout


@pytest.mark.parametrize("no_limit", ["None", "-1"])
def test_an_execute_timeout_meaning_no_limit_leaves_only_the_submission_timeout(tmp_path: Path, no_limit):
    course = _config(tmp_path / "course", f"c.Execute.timeout = {no_limit}\nc.SafeGrading.timeout = 300\n")
    assert load_settings(course).cell_limit == 300


def test_a_broken_course_config_raises_config_error_naming_the_file(tmp_path: Path):
    course = _config(tmp_path / "course", "c.SafeGrading.timeout = (\n")
    with pytest.raises(ConfigError, match="could not be loaded") as error:
        load_settings(course)
    assert str(course / "nbgrader_config.py") in str(error.value)
    assert "SyntaxError" in str(error.value) and "fix or remove it" in str(error.value)


def test_a_broken_user_config_is_named_too(tmp_path: Path, user_config_dir: Path):
    _config(user_config_dir, "raise RuntimeError('half-edited')\n")
    with pytest.raises(ConfigError, match="RuntimeError: half-edited") as error:
        load_settings(_config(tmp_path / "course", ""))
    assert str(user_config_dir / "nbgrader_config.py") in str(error.value)


def test_a_folder_without_nbgrader_config_is_not_a_config(tmp_path: Path):
    with pytest.raises(ConfigError, match="is not an nbgrader course: it has no nbgrader_config.py"):
        course_config(tmp_path)


@pytest.mark.parametrize("arg", ["--bogus", "x.ipynb", "-v", "--timeout"])
def test_only_nbgrader_style_settings_are_accepted_as_extra_arguments(arg: str):
    with pytest.raises(ConfigError, match=f"unrecognised argument '{arg}'"):
        command_line_config([arg])


def test_the_gradebook_is_the_courses_sqlite_unless_db_url_says_otherwise(tmp_path: Path):
    plain = _config(tmp_path / "plain", "")
    assert db_url(plain) == f"sqlite:///{plain / 'gradebook.db'}"
    other = _config(tmp_path / "other", "c.CourseDirectory.db_url = 'postgresql://grades/course'\n")
    assert db_url(other) == "postgresql://grades/course"


def test_the_gradebook_comes_from_the_user_config_folder_when_the_course_does_not_name_one(
        tmp_path: Path, user_config_dir: Path):
    _config(user_config_dir, "c.CourseDirectory.db_url = 'postgresql://server/shared'\n")
    plain = _config(tmp_path / "plain", "")
    assert db_url(plain) == "postgresql://server/shared"
    flag = command_line_config(["--CourseDirectory.db_url=sqlite:////srv/flag.db"])
    assert db_url(plain, course_config(plain, flag)) == "sqlite:////srv/flag.db"
    named = _config(tmp_path / "named", "c.CourseDirectory.db_url = 'sqlite:////srv/course.db'\n")
    assert db_url(named) == "sqlite:////srv/course.db"


@pytest.mark.parametrize("course_sets", [False, True])
def test_the_gradebook_url_is_the_one_nbgrader_itself_resolves(tmp_path: Path, user_config_dir: Path,
                                                               course_sets: bool):
    """Our loading agrees with nbgrader's own apps: user folder, then the course, in the same order."""
    _config(user_config_dir, "c.CourseDirectory.db_url = 'sqlite:////srv/user.db'\n")
    course = _config(tmp_path / "course", "c.CourseDirectory.db_url = 'sqlite:////srv/course.db'\n"
                     if course_sets else "")
    probe = ("from nbgrader.apps import NbGraderApp\nfrom nbgrader.coursedir import CourseDirectory\n"
             "app = NbGraderApp()\napp.initialize([])\nprint(CourseDirectory(parent=app).db_url)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=course, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == db_url(course)
