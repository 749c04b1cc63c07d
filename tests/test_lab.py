"""autograder.tools.lab without a browser: the command line, the config folder and the checks it makes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.tools import lab
from tests.helpers import ROOT


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder with just this course's nbgrader_config.py."""
    path = tmp_path / "course"
    path.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", path / "nbgrader_config.py")
    return path


@pytest.fixture
def tfds_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty TFDS data folder in $TFDS_DATA_DIR (no mnist prepared in it)."""
    path = tmp_path / "tensorflow_datasets"
    path.mkdir()
    monkeypatch.setenv("TFDS_DATA_DIR", str(path))
    return path


@pytest.fixture
def prepared_marker(tfds_data_dir: Path) -> Path:
    """What prepare_lab looks for: mnist/3.0.1/dataset_info.json (TFDS writes it last), empty here."""
    folder = tfds_data_dir / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text("{}")
    return folder


@pytest.mark.usefixtures("prepared_marker")
def test_prepare_lab_enables_nbgrader_in_its_own_config_dir(course: Path, tmp_path: Path,
                                                            tfds_data_dir: Path) -> None:
    launch = lab.prepare_lab(course, port=9123, token="secret", open_browser=False,
                             env={"PATH": "/usr/bin", "NBGRADER_EXCHANGE": str(tmp_path / "ex")})
    assert launch.cwd == course.resolve()
    assert f"--ServerApp.root_dir={course.resolve()}" in launch.command
    assert {"--ServerApp.ip=127.0.0.1", "--ServerApp.port=9123", "--IdentityProvider.token=secret",
            "--ServerApp.open_browser=False"} <= set(launch.command)
    assert launch.env["JUPYTER_CONFIG_DIR"] == str(course.resolve() / ".jupyter-lab")
    assert launch.env["PATH"].split(":")[0].endswith("bin")  # the venv's, where alembic is
    assert launch.env["TFDS_DATA_DIR"] == str(tfds_data_dir)  # the kernels find the prepared mnist

    server = json.loads((launch.config_dir / "jupyter_server_config.json").read_text())
    enabled = server["ServerApp"]["jpserver_extensions"]
    assert all(enabled[f"nbgrader.server_extensions.{name}"] for name in
               ("formgrader", "validate_assignment", "assignment_list", "course_list"))
    page = json.loads((launch.config_dir / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:create-assignment"] is False
    assert launch.exchange == tmp_path / "ex" and launch.exchange.is_dir()  # nbgrader needs it to exist


@pytest.mark.usefixtures("prepared_marker", "tfds_data_dir")
def test_the_labs_python3_kernel_keeps_tensorflows_startup_lines_out_of_the_terminal(course: Path,
                                                                                   tmp_path: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    launch = lab.prepare_lab(course, open_browser=False, env={"PATH": "/usr/bin"})
    with pytest.MonkeyPatch.context() as mp:  # the server's environment: its JUPYTER_PATH first
        mp.setenv("JUPYTER_PATH", launch.env["JUPYTER_PATH"])
        spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[-4:] == ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # The spec's launcher in front of a stand-in kernel that logs as TensorFlow does while it loads.
    kernel = ("import sys; sys.stderr.write('I0000 00:00:1796597785.043505     1 port.cc:153] "
              "oneDNN custom operations are on.\\nthe student sees this\\n')")
    done = subprocess.run([*spec.argv[:-4], "-c", kernel], capture_output=True, text=True, timeout=60,
                          env={**launch.env, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0 and done.stderr == "the student sees this\n", done.stderr


@pytest.mark.usefixtures("tfds_data_dir")
def test_prepare_lab_refuses_when_mnist_is_not_prepared_and_names_make_data(course: Path) -> None:
    with pytest.raises(lab.LabError, match="run `make data`") as error:
        lab.prepare_lab(course, port=9123, token="secret", open_browser=False)
    assert "TFDS mnist is not prepared in" in str(error.value)
    assert not (course / lab.CONFIG_DIR_NAME).exists()  # nothing written before the checks pass


def test_lab_refuses_a_folder_that_is_not_a_course(tmp_path: Path, capsys) -> None:
    assert lab.main(["--course", str(tmp_path), "--no-browser"]) == 2
    assert "no nbgrader_config.py" in capsys.readouterr().err


def test_main_hands_its_options_and_what_follows_the_double_dash_to_jupyterlab(monkeypatch, capsys) -> None:
    seen = {}

    def stop(course: Path, port: int, token: str | None, open_browser: bool, extra_args: list[str]) -> None:
        seen.update(course=course, port=port, token=token, open_browser=open_browser, extra_args=extra_args)
        raise lab.LabError("stopped before JupyterLab")

    monkeypatch.setattr(lab, "prepare_lab", stop)
    monkeypatch.setenv(lab.PORT_ENV, "8899")
    assert lab.main(["--course", "c", "--no-browser", "--token", "t", "--", "--ServerApp.base_url=/x/"]) == 2
    assert seen == {"course": Path("c"), "port": 8899, "token": "t", "open_browser": False,
                    "extra_args": ["--ServerApp.base_url=/x/"]}
    assert capsys.readouterr().err == "lab: stopped before JupyterLab\n"


@pytest.mark.parametrize(("argv", "line"), [
    (["--ServerApp.base_url=/x/"], "unrecognised argument '--ServerApp.base_url=/x/'; JupyterLab's own "
                                   "options go after --, e.g. -- --ServerApp.base_url=/course/"),
    (["--port", "70000"], "The value of the 'port' trait of a Lab instance should not be greater than 65535, "
                          "but a value of 70000 was specified"),
])
def test_main_refuses_a_bad_option_in_one_line(argv: list[str], line: str, capsys) -> None:
    assert lab.main(argv) == 2
    assert capsys.readouterr().err == f"lab: {line}\n"


def test_main_refuses_a_lab_port_variable_that_is_no_number(monkeypatch, capsys) -> None:
    monkeypatch.setenv(lab.PORT_ENV, "abc")
    assert lab.main(["--no-browser"]) == 2
    assert capsys.readouterr().err == f"lab: {lab.PORT_ENV}='abc' is refused: it must be a port number\n"


def test_main_names_the_module_in_its_usage(capsys) -> None:
    assert lab.main(["--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: {lab.MODULE} [options] [-- JUPYTERLAB_OPTIONS]\n")
