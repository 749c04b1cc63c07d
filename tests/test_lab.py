"""autograder.lab without a browser: the command line, the config folder and the checks it makes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder import lab
from tests.conftest import ROOT


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder with just this course's nbgrader_config.py."""
    path = tmp_path / "course"
    path.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", path / "nbgrader_config.py")
    return path


@pytest.mark.usefixtures("prepared_mnist")
def test_prepare_lab_enables_nbgrader_in_its_own_config_dir(course: Path, tmp_path: Path) -> None:
    launch = lab.prepare_lab(course, port=9123, token="secret", open_browser=False,
                             env={"PATH": "/usr/bin", "NBGRADER_EXCHANGE": str(tmp_path / "ex")})
    assert launch.cwd == course.resolve()
    assert f"--ServerApp.root_dir={course.resolve()}" in launch.command
    assert {"--ServerApp.ip=127.0.0.1", "--ServerApp.port=9123", "--IdentityProvider.token=secret",
            "--ServerApp.open_browser=False"} <= set(launch.command)
    assert launch.env["JUPYTER_CONFIG_DIR"] == str(course.resolve() / ".jupyter-lab")
    assert launch.env["PATH"].split(":")[0].endswith("bin")  # the venv's, where alembic is

    server = json.loads((launch.config_dir / "jupyter_server_config.json").read_text())
    enabled = server["ServerApp"]["jpserver_extensions"]
    assert all(enabled[f"nbgrader.server_extensions.{name}"] for name in
               ("formgrader", "validate_assignment", "assignment_list", "course_list"))
    page = json.loads((launch.config_dir / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:create-assignment"] is False
    assert launch.exchange == tmp_path / "ex" and launch.exchange.is_dir()  # nbgrader needs it to exist


def test_lab_refuses_a_folder_that_is_not_a_course(tmp_path: Path, capsys) -> None:
    assert lab.main(["--course", str(tmp_path), "--no-browser"]) == 2
    assert "no nbgrader_config.py" in capsys.readouterr().err
