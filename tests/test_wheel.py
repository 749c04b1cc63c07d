"""The package as a student image installs it: a real wheel, not this checkout's editable install.

The wheel is built from a copy of the project (an in-tree build would write ``build/`` and
``*.egg-info`` into the shared checkout, and a stale ``build/lib`` can smuggle deleted modules
into a wheel).  It is installed into a fresh virtual environment that sees the dev venv's
third-party packages (TensorFlow, nbgrader, ...) through a ``.pth`` path line: such a line adds
the folder to ``sys.path`` without running the ``.pth`` files inside it, so the dev venv's
editable finder for this project stays inactive and only the installed wheel can be imported.
Offline: ``--no-index``, no build isolation (the dev venv's setuptools builds the wheel).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # builds a wheel and a virtual environment (~15 s): not for the quick tier

DIST = "mnist_batch_size_course"
PROJECT_FILES = ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in", "LICENSE")
PACKAGES = ("autograder", "mnist_ref")

# What a grade cell does: the notebook's imports, then grade() on a plain answer (no TensorFlow,
# no MNIST).  A right function earns all points, a floor-division one half of them.
GRADE_CELL = """\
import math
import sys

from autograder import checks
from autograder.grading import grade, var

import autograder
import mnist_ref.lesson


def updates_per_epoch(batch_size):
    return math.ceil(54_000 / batch_size)


def floor_updates(batch_size):
    return 54_000 // batch_size


CASES = {1: 54_000, 100: 540, 10_000: 6, 7: 7_715}
right = grade(checks.check_function_cases, globals(), out_of=2, function=var("updates_per_epoch"),
              name="updates_per_epoch", cases=CASES)
half = grade(checks.check_function_cases, globals(), out_of=2, function=var("floor_updates"),
             name="updates_per_epoch", cases=CASES)
print("POINTS", right, half)
for module in (autograder, checks, mnist_ref.lesson):
    print("FILE", module.__name__, module.__file__)
print("EDITABLE", [name for name in sys.modules if name.startswith("__editable__")])
"""


@dataclass(frozen=True)
class Installed:
    src: Path  # the copy of the project the wheel was built from
    wheel: Path
    venv: Path
    python: Path
    site_packages: Path
    env: dict[str, str]
    work: Path  # a working directory outside the repository


def _run(cmd: list, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _copy_project(dst: Path) -> None:
    """The files a build reads: the packaging files and the top-level Python packages."""
    dst.mkdir()
    for name in PROJECT_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dst / name)
    for path in ROOT.iterdir():
        if (path / "__init__.py").is_file() and path.name != "tests":
            shutil.copytree(path, dst / path.name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))


def _package_files(project: Path) -> set[str]:
    """Every file of the packages (code and any data read at runtime), as wheel paths."""
    return {
        p.relative_to(project).as_posix()
        for package in PACKAGES
        for p in (project / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The project's wheel, installed non-editable into a fresh venv that borrows only dependencies."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert ROOT not in tmp.parents, "the test must run outside the repository"
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PIP_")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")

    src, dist, venv, work = tmp / "src", tmp / "dist", tmp / "venv", tmp / "student"
    _copy_project(src)
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "--no-cache-dir", "-w", dist, src], tmp, env))
    (wheel,) = dist.glob(f"{DIST}-*.whl")

    _ok(_run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env))
    python = venv / "bin" / "python"
    site_packages = Path(_ok(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  tmp, env)).stdout.strip())
    # Install before the .pth exists: this pip (run by the fresh interpreter via --python) then
    # sees no installed copy of the project, and writes console scripts for the fresh python.
    _ok(_run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
              "--no-cache-dir", wheel], tmp, env))

    dev_paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site_packages / "dev-venv-dependencies.pth").write_text("".join(f"{p}\n" for p in dev_paths))
    work.mkdir()
    return Installed(src, wheel, venv, python, site_packages, env, work)


def test_wheel_holds_every_package_file_and_both_console_scripts(installed: Installed):
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = whl.read(entry_points).decode()
    missing = sorted(_package_files(installed.src) - names)
    assert not missing, f"files of the packages missing from the wheel: {missing}"
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == set(PACKAGES)
    assert "mnist-course = mnist_ref.__main__:main" in text
    assert "mnist-autograder = autograder.tools.cli:main" in text


def test_wheel_installed_non_editable_grades_a_cell(installed: Installed):
    (installed.work / "grade_cell.py").write_text(GRADE_CELL)
    out = _ok(_run([installed.python, "grade_cell.py"], installed.work, installed.env)).stdout

    assert "function cases: 2 / 2 points" in out
    assert "✔ updates_per_epoch(7) == 7715 (0.5)" in out
    assert "function cases: 1 / 2 points" in out
    assert "✘ updates_per_epoch(7) returned 7714; expected 7715 (0 of 0.5)" in out
    assert "POINTS 2.0 1.0" in out

    files = {line.split()[1]: Path(line.split(maxsplit=2)[2]) for line in out.splitlines()
             if line.startswith("FILE ")}
    assert set(files) == {"autograder", "autograder.checks", "mnist_ref.lesson"}
    for name, file in files.items():
        assert installed.site_packages in file.parents, f"{name} imported from {file}, not the wheel"
    assert "EDITABLE []" in out, "the dev venv's editable finder is active in the fresh venv"

    dist_info = next(installed.site_packages.glob(f"{DIST}-*.dist-info"))
    direct_url = json.loads((dist_info / "direct_url.json").read_text())
    assert "archive_info" in direct_url and not direct_url.get("dir_info", {}).get("editable")
    assert not list(installed.site_packages.glob("__editable__*"))


@pytest.mark.parametrize(("script", "module"), [("mnist-course", "mnist_ref"),
                                                 ("mnist-autograder", "autograder")])
def test_console_scripts_run_from_the_fresh_venv_like_python_m(installed: Installed, script, module):
    path = installed.venv / "bin" / script
    assert path.read_text().splitlines()[0] == f"#!{installed.python}"
    helped = _ok(_run([path, "--help"], installed.work, installed.env, timeout=120))
    assert helped.stdout.startswith(f"usage: python -m {module} ")
    # No command: argparse's usage error, exit 2, exactly as `python -m` gives it.
    bare = _run([path], installed.work, installed.env, timeout=120)
    as_module = _run([installed.python, "-m", module], installed.work, installed.env, timeout=120)
    assert bare.returncode == as_module.returncode == 2
    assert bare.stderr == as_module.stderr
