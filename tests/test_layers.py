"""The layer contracts (pyproject.toml, [tool.importlinter]) hold, and they catch a broken rule."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(project: Path) -> subprocess.CompletedProcess:
    """Run lint-imports on ``project``'s packages with its pyproject.toml (no cache)."""
    env = {**os.environ, "PYTHONPATH": str(project)}  # the copy's packages before the installed ones
    return subprocess.run([str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)


def _copy_project(target: Path) -> Path:
    for package in ("autograder", "mnist_ref"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_every_layer_contract_is_kept():
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout and "KEPT" in proc.stdout


def _lint_with_one_import_added(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    """lint-imports on a copy of the code whose ``module`` (a path under the copy) gains ``line``."""
    project = _copy_project(tmp_path)
    with (project / module).open("a") as f:
        f.write(f"\n{line}  # noqa: E402,F401 - a rule broken on purpose\n")
    return _lint_imports(project)


def test_a_check_that_imports_host_code_breaks_the_contracts(tmp_path: Path):
    """Break a rule on purpose in a copy: checks/data.py importing the host is caught, with its line."""
    proc = _lint_with_one_import_added(tmp_path, "autograder/checks/data.py",
                                       "from autograder.host import course")
    assert proc.returncode != 0
    assert "autograder.checks.data -> autograder.host.course" in proc.stdout
    assert "Code that runs in the student's kernel never imports host, judge or tool code BROKEN" \
        in " ".join(proc.stdout.split())


def test_an_import_circle_breaks_the_contracts(tmp_path: Path):
    """A circle between two modules of a package (as evidence <-> facts once was) is caught."""
    proc = _lint_with_one_import_added(tmp_path, "autograder/evidence/records.py",
                                       "from autograder.evidence import facts")
    assert proc.returncode != 0
    assert "No cycles are allowed in autograder.evidence" in proc.stdout
