"""``mnist-autograder`` as a traitlets Application: --help-all, --generate-config, refusals, config order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder.host.settings import SETTINGS_CLASSES, load_settings
from autograder.tools.cli import main
from autograder.tools.commands import COMMANDS
from tests.helpers import config_in, one_line

SETTINGS = [(cls.__name__, name, cls.class_traits()[name].help) for cls in SETTINGS_CLASSES
            for name in cls.class_trait_names(config=True)]


@pytest.fixture(autouse=True)
def config_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Jupyter's config folders, empty: the user's (JUPYTER_CONFIG_DIR) and JUPYTER_CONFIG_PATH's."""
    user, explicit = tmp_path / "user-jupyter", tmp_path / "explicit-jupyter"
    user.mkdir()
    explicit.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(explicit))
    return user, explicit




def _flat(text: str) -> str:
    return " ".join(text.split())


def test_help_all_lists_every_setting_once_with_its_help(capsys):
    assert main(["--help-all"]) == 0
    out = capsys.readouterr().out
    for cls, name, help_text in SETTINGS:
        assert len(re.findall(rf"^--{cls}\.{name}=", out, re.MULTILINE)) == 1, name
        assert _flat(help_text) in _flat(out), name


@pytest.mark.parametrize("argv", [["--help"], ["--help-all"], *([name, "--help-all"] for name in COMMANDS)])
def test_help_shows_no_restructuredtext_markup(argv: list[str], capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip()
    assert not re.search(r":(mod|class|func|meth|attr):`|``", out), out


@pytest.mark.parametrize(("command", "options"), [
    ("lab", ["--course", "--port", "--token", "--no-browser"]),
    ("hub", ["--root", "--port", "--instructor", "--students", "--roster", "--dev", "--env",
             "--prepare-only"]),
])
def test_the_lab_and_the_hub_list_each_of_their_options_once(command: str, options: list[str], capsys):
    assert main([command, "--help-all"]) == 0
    out = capsys.readouterr().out
    for option in options:
        assert len(re.findall(rf"^{option}(=|$)", out, re.MULTILINE)) == 1, option
    assert "SafeGrading" not in out  # neither reads the grading settings


@pytest.mark.parametrize("command", ["lab", "hub"])
def test_the_lab_and_the_hub_refuse_a_port_that_is_no_number_in_one_line(command: str, capsys):
    assert main([command, "--port=abc"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == (f"{command}: The 'port' trait of a {command.title()} instance "
                                       "expected an int, not the str 'abc'.")


def test_generate_config_writes_every_setting_with_its_help(config_folders):
    user, _ = config_folders
    assert main(["--generate-config"]) == 0
    text = (user / "nbgrader_config.py").read_text()
    comments = _flat(" ".join(line.lstrip("#") for line in text.splitlines()))
    for cls, name, help_text in SETTINGS:
        assert re.search(rf"^# c\.{cls}\.{name} = ", text, re.MULTILINE), name
        assert _flat(help_text) in comments, name


def test_a_generated_config_with_every_line_uncommented_gives_the_defaults(config_folders, tmp_path: Path):
    user, _ = config_folders
    course = config_in(tmp_path / "course", "c.Execute.timeout = 150\n")
    before = load_settings(course)
    assert main(["--generate-config"]) == 0
    text = (user / "nbgrader_config.py").read_text()
    (user / "nbgrader_config.py").write_text(re.sub(r"^# (c\.\w+\.\w+ = )", r"\1", text, flags=re.MULTILINE))
    after = load_settings(course)
    names = set(after.trait_names(config=True)) - {"cell_timeout"}
    assert {name: getattr(after, name) for name in names} == {name: getattr(before, name) for name in names}
    assert after.cell_timeout is None  # written as None: nbgrader's Execute.timeout, as when unset
    assert after.cell_limit == before.cell_limit == 150


@pytest.mark.parametrize(("argv", "line"), [
    (["--memory-gb=0"], "SafeGrading.memory_gb=0.0 is refused: it must be more than 0"),
    (["--SafeGrading.memory_gb=0"], "SafeGrading.memory_gb=0.0 is refused: it must be more than 0"),
    (["--timeout", "-5"], "SafeGrading.timeout=-5.0 is refused: it must be 1 second or more"),
    (["--SafeGrading.judge_timeout=-1"], "SafeGrading.judge_timeout=-1.0 is refused: it must be more than 0"),
    (["--kernel-threads=0"], "SafeGrading.kernel_threads=0 is refused: it must be 1 or more"),
    (["--scheduler=localhost"], "SafeGrading.scheduler='localhost' is refused: it must be empty (a local "
                                "cluster) or a scheduler's address, tcp://HOST:8786"),
    (["--FeedbackOnSubmit.runs_per_day=0"],
     "FeedbackOnSubmit.runs_per_day=0 is refused: it must be 1 or more"),
    (["--SafeGrading.memory=4"],
     "SafeGrading.memory is not a setting; SafeGrading's are cell_output_kb, cell_timeout, disk_mb, "
     "judge_timeout, kernel_threads, memory_gb, output_mb, scheduler, tensorflow_log_level, timeout, workers "
     "(mnist-autograder --help-all)"),
    (["--memory=4"], "unrecognised argument '--memory=4'; settings look like --SafeGrading.timeout=600"),
])
def test_a_bad_setting_on_the_command_line_is_refused_in_one_line_naming_it(tmp_path: Path, capsys, argv,
                                                                            line):
    course = config_in(tmp_path / "course", "")
    assert main(["grade-all", str(course), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == f"grade-all: {line}"


def test_a_bad_setting_in_the_course_config_is_refused_before_the_command_runs(tmp_path: Path, capsys):
    course = config_in(tmp_path / "course", "c.SafeGrading.memory_gb = 0\n")
    assert main(["doctor", str(course)]) == 2
    assert one_line(capsys.readouterr().err) == ("doctor: SafeGrading.memory_gb=0.0 is refused: it must be "
                                                  "more than 0")


@pytest.mark.parametrize("argv", [["grade"], ["grade-all"], ["doctor", "a", "b"], ["roster"], ["nonsense"],
                                  []])
def test_a_command_line_missing_or_adding_arguments_is_refused_in_one_line(argv: list[str], capsys):
    assert main(argv) == 2
    assert one_line(capsys.readouterr().err)


def test_config_is_read_in_jupyters_order_then_the_course_then_the_command_line(tmp_path: Path,
                                                                              config_folders):
    """The user's folder < JUPYTER_CONFIG_PATH's < the course's nbgrader_config.py < the command line.

    Jupyter's order (``jupyter --paths``), then the course, then the command line: as nbgrader's apps.
    """
    from autograder.tools.commands import Doctor

    user, explicit = config_folders
    config_in(user, "c.SafeGrading.disk_mb = 1.0\nc.SafeGrading.memory_gb = 1.0\nc.SafeGrading.timeout = 10\n"
            "c.SafeGrading.judge_timeout = 1.0\n")
    config_in(explicit, "c.SafeGrading.memory_gb = 2.0\nc.SafeGrading.timeout = 20\n"
            "c.SafeGrading.judge_timeout = 2.0\n")
    course = config_in(tmp_path / "course", "c.SafeGrading.timeout = 30\nc.SafeGrading.judge_timeout = 3.0\n")
    command = Doctor()
    command.initialize([str(course), "--SafeGrading.judge_timeout=4"])
    settings = command.settings
    assert (settings.disk_mb, settings.memory_gb, settings.timeout, settings.judge_timeout) == (1, 2, 30, 4)
    assert command.loaded_config_files == [str(user / "nbgrader_config.py"),
                                           str(explicit / "nbgrader_config.py"),
                                           str(course / "nbgrader_config.py")]
    assert load_settings(course).judge_timeout == 3  # the host's own reading agrees, without the command line
