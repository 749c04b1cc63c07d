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
from tests.helpers import ROOT, config_in, one_line, run_module


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




# ------------------------------------------------------------------ the command line's errors


def test_grade_all_on_a_folder_without_nbgrader_config_exits_2_naming_the_file(tmp_path: Path):
    """The real command line, in its own process (the other errors are checked in this one)."""
    proc = run_module("autograder", "grade-all", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    line = one_line(proc.stderr)
    assert line.startswith("grade-all: ") and "it has no nbgrader_config.py" in line


def test_grade_with_a_stray_argument_exits_2_saying_what_settings_look_like(tmp_path: Path, capsys):
    from autograder.__main__ import main

    assert main(["grade", str(tmp_path / "x.ipynb"), "--bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == ("grade: unrecognised argument '--bogus'; settings look like "
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
    assert one_line(captured.err) == (f"grade-all: no submissions for 'mnist_batch_size' under "
                                       f"{course.resolve() / 'submitted'}")


def test_a_short_flag_with_a_non_number_exits_2_with_one_line_naming_it(tmp_path: Path, capsys):
    from autograder.__main__ import main

    assert main(["grade", str(tmp_path / "x.ipynb"), "--timeout=abc"]) == 2
    assert one_line(capsys.readouterr().err) == ("grade: The 'timeout' trait of a SafeGrading instance "
                                                  "expected a float, not the str 'abc'.")


def test_a_setting_of_the_wrong_type_exits_2_with_one_line(tmp_path: Path, capsys):
    from autograder.__main__ import main

    course = config_in(tmp_path / "course", "")
    assert main(["grade-all", str(course), "--SafeGrading.timeout=abc"]) == 2
    assert "timeout" in one_line(capsys.readouterr().err)


# ------------------------------------------------------------------ where settings come from


def test_the_course_config_sets_the_limits(tmp_path: Path):
    course = config_in(tmp_path / "course", "c.SafeGrading.timeout = 120\nc.SafeGrading.workers = 3\n")
    settings = load_settings(course)
    assert (settings.timeout, settings.workers, settings.worker_count) == (120, 3, 3)
    assert settings.memory_gb == SafeGrading().memory_gb  # unset: the default


def test_the_course_overrides_the_user_config_folder_and_the_command_line_overrides_both(
        tmp_path: Path, user_config_dir: Path):
    config_in(user_config_dir, "c.SafeGrading.timeout = 90\nc.SafeGrading.memory_gb = 2\n")
    course = config_in(tmp_path / "course", "c.SafeGrading.timeout = 120\n")
    from_files = load_settings(course)
    assert from_files.timeout == 120  # the course wins over ~/.jupyter
    assert from_files.memory_gb == 2  # what the course leaves unset still comes from ~/.jupyter
    flags = load_settings(course, command_line_config(["--SafeGrading.timeout=42"]))
    assert (flags.timeout, flags.memory_gb) == (42, 2)


def test_the_cell_limit_is_nbgraders_execute_timeout_capped_at_the_submission_timeout(tmp_path: Path):
    course = config_in(tmp_path / "course", "c.Execute.timeout = 150\nc.SafeGrading.timeout = 300\n")
    assert load_settings(course).cell_limit == 150
    short = load_settings(course, command_line_config(["--SafeGrading.timeout=100"]))
    assert short.cell_limit == 100
    own = load_settings(course, command_line_config(["--SafeGrading.cell_timeout=20"]))
    assert own.cell_limit == 20


def test_without_execute_timeout_the_cell_limit_is_nbgraders_default(tmp_path: Path):
    from nbgrader.preprocessors import Execute

    assert load_settings(config_in(tmp_path / "course", "")).cell_limit == Execute().timeout


@pytest.mark.parametrize("no_limit", ["None", "-1"])
def test_an_execute_timeout_meaning_no_limit_leaves_only_the_submission_timeout(tmp_path: Path, no_limit):
    course = config_in(tmp_path / "course", f"c.Execute.timeout = {no_limit}\nc.SafeGrading.timeout = 300\n")
    assert load_settings(course).cell_limit == 300


def test_a_broken_course_config_raises_config_error_naming_the_file(tmp_path: Path):
    course = config_in(tmp_path / "course", "c.SafeGrading.timeout = (\n")
    with pytest.raises(ConfigError, match="could not be loaded") as error:
        load_settings(course)
    assert str(course / "nbgrader_config.py") in str(error.value)
    assert "SyntaxError" in str(error.value) and "fix or remove it" in str(error.value)


def test_a_broken_user_config_is_named_too(tmp_path: Path, user_config_dir: Path):
    config_in(user_config_dir, "raise RuntimeError('half-edited')\n")
    with pytest.raises(ConfigError, match="RuntimeError: half-edited") as error:
        load_settings(config_in(tmp_path / "course", ""))
    assert str(user_config_dir / "nbgrader_config.py") in str(error.value)


def test_a_folder_without_nbgrader_config_is_not_a_config(tmp_path: Path):
    with pytest.raises(ConfigError, match="is not an nbgrader course: it has no nbgrader_config.py"):
        course_config(tmp_path)


@pytest.mark.parametrize("arg", ["--bogus", "x.ipynb", "-v", "--timeout"])
def test_only_nbgrader_style_settings_are_accepted_as_extra_arguments(arg: str):
    with pytest.raises(ConfigError, match=f"unrecognised argument '{arg}'"):
        command_line_config([arg])


def test_the_gradebook_is_the_courses_sqlite_unless_db_url_says_otherwise(tmp_path: Path):
    plain = config_in(tmp_path / "plain", "")
    assert db_url(plain) == f"sqlite:///{plain / 'gradebook.db'}"
    other = config_in(tmp_path / "other", "c.CourseDirectory.db_url = 'postgresql://grades/course'\n")
    assert db_url(other) == "postgresql://grades/course"


def test_the_gradebook_comes_from_the_user_config_folder_when_the_course_does_not_name_one(
        tmp_path: Path, user_config_dir: Path):
    config_in(user_config_dir, "c.CourseDirectory.db_url = 'postgresql://server/shared'\n")
    plain = config_in(tmp_path / "plain", "")
    assert db_url(plain) == "postgresql://server/shared"
    flag = command_line_config(["--CourseDirectory.db_url=sqlite:////srv/flag.db"])
    assert db_url(plain, course_config(plain, flag)) == "sqlite:////srv/flag.db"
    named = config_in(tmp_path / "named", "c.CourseDirectory.db_url = 'sqlite:////srv/course.db'\n")
    assert db_url(named) == "sqlite:////srv/course.db"


@pytest.mark.parametrize("course_sets", [False, True])
def test_the_gradebook_url_is_the_one_nbgrader_itself_resolves(tmp_path: Path, user_config_dir: Path,
                                                               course_sets: bool):
    """Our loading agrees with nbgrader's own apps: user folder, then the course, in the same order."""
    config_in(user_config_dir, "c.CourseDirectory.db_url = 'sqlite:////srv/user.db'\n")
    course = config_in(tmp_path / "course", "c.CourseDirectory.db_url = 'sqlite:////srv/course.db'\n"
                     if course_sets else "")
    probe = ("from nbgrader.apps import NbGraderApp\nfrom nbgrader.coursedir import CourseDirectory\n"
             "app = NbGraderApp()\napp.initialize([])\nprint(CourseDirectory(parent=app).db_url)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=course, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == db_url(course)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_the_course_this_installation_carries_with_its_own_id(tmp_path: Path, capsys):
    from autograder.__main__ import main
    from autograder.host.course import TEMPLATE

    course = tmp_path / "fall" / "course"
    assert main(["init", str(course), "--course-id", "ml-101.fall_2027"]) == 0
    assert "a new course in" in capsys.readouterr().out
    assert course_config(course).CourseDirectory.course_id == "ml-101.fall_2027"
    assert _tree(course / "source") == {k: v for k, v in _tree(TEMPLATE / "source").items()
                                        if ".ipynb_checkpoints" not in k}
    assert load_settings(course).timeout == load_settings(TEMPLATE).timeout


@pytest.mark.parametrize("existing", ["nbgrader_config.py", "source", "gradebook.db"])
def test_init_refuses_a_folder_that_holds_a_course_and_changes_nothing(tmp_path: Path, capsys, existing):
    from autograder.__main__ import main

    course = tmp_path / "course"
    (course / "source" if existing == "source" else course).mkdir(parents=True)
    if existing != "source":
        (course / existing).write_text("the instructor's own")
    before = _tree(course)
    assert main(["init", str(course)]) == 2
    err = capsys.readouterr().err
    assert "already holds a course" in err and existing in err and "nothing was written" in err
    assert _tree(course) == before and sorted(p.name for p in course.iterdir()) == [existing]


@pytest.mark.parametrize("bad", ["has space", "a/b", "../up", "", "-dash-first"])
def test_init_refuses_a_course_id_nbgraders_exchange_cannot_hold(tmp_path: Path, capsys, bad):
    from autograder.__main__ import main

    assert main(["init", str(tmp_path / "course"), f"--course-id={bad}"]) == 2
    assert f"course id {bad!r}" in capsys.readouterr().err
    assert not (tmp_path / "course").exists()


def test_without_its_source_notebooks_the_installation_says_how_to_get_them_back(tmp_path, monkeypatch,
                                                                                  capsys):
    """`remove-solutions` on a copy of the wheel's course folder; then init refuses, saying why."""
    from autograder.__main__ import main
    from autograder.host import course as course_module

    packaged = tmp_path / "site-packages" / "autograder" / "course_files"
    shutil.copytree(ROOT / "source", packaged / "source")
    shutil.copyfile(ROOT / "nbgrader_config.py", packaged / "nbgrader_config.py")
    monkeypatch.setattr(course_module, "PACKAGED", packaged)
    monkeypatch.setattr(course_module, "TEMPLATE", packaged)
    assert main(["remove-solutions"]) == 0
    assert not (packaged / "source").exists() and (packaged / "nbgrader_config.py").is_file()
    assert "removed" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "course")]) == 2
    assert "no longer carries the course's source notebooks" in capsys.readouterr().err
    assert main(["remove-solutions"]) == 0  # again: nothing to do, said so


def test_jupyter_config_gives_students_no_formgrader_and_instructors_everything(tmp_path: Path):
    import json

    from autograder.__main__ import main
    from autograder.tools.lab import INSTRUCTOR_ONLY, LAB_PLUGINS, SERVER_EXTENSIONS

    for role in ("student", "instructor"):
        assert main(["jupyter-config", str(tmp_path / role), "--role", role]) == 0
        server = json.loads((tmp_path / role / "jupyter_server_config.json").read_text())
        page = json.loads((tmp_path / role / "labconfig" / "page_config.json").read_text())
        on = {name for name, enabled in server["ServerApp"]["jpserver_extensions"].items() if enabled}
        on |= {name for name, disabled in page["disabledExtensions"].items() if not disabled}
        everything = set(SERVER_EXTENSIONS) | set(LAB_PLUGINS)
        assert on == (everything - INSTRUCTOR_ONLY if role == "student" else everything), role


def test_the_lab_outside_a_course_says_how_to_make_one(tmp_path: Path, monkeypatch, capsys):
    from autograder.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--no-browser"]) == 2
    assert "mnist-autograder init DIR" in capsys.readouterr().err
