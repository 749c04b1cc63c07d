"""The Python environment every user's server runs: the project installed once, without the solutions."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from autograder.host.course import CHECKOUT
from autograder.tools.hub.errors import HubError, run
from autograder.tools.hub.layout import FROM_CHECKOUT, HubLayout
from autograder.tools.hub.permissions import readable_by_all

# JupyterLab's defaults for every user of the users' environment: the course machines are offline.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                                 "checkForUpdates": False}}


def shared_python() -> Path:
    """A Python of this version that every account may run (this one may sit in root's home)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (Path("/usr/bin") / version, Path("/usr/local/bin") / version, Path(sys.executable)):
        if candidate.is_file() and readable_by_all(candidate.resolve()):
            return candidate
    raise HubError(f"no {version} that every user may run (this one is {sys.executable}): "
                   f"install it system-wide (apt-get install {version} {version}-venv)")


def project_fingerprint() -> str:
    """What the users' environment was built from: the code (the workers' fingerprint) and its pins."""
    from autograder.host.bundle import package_fingerprint

    digest = hashlib.sha256(package_fingerprint().encode())
    for path in (CHECKOUT / "pyproject.toml", CHECKOUT / "constraints.txt", CHECKOUT / "setup.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def packaged_solutions(env: Path) -> list[Path]:
    """The course's source notebooks an installed wheel carries in the Python environment ``env``."""
    return sorted(env.glob("lib/python*/site-packages/autograder/course_files/source"))


def build_env(layout: HubLayout) -> Path:
    """The Python environment every user's server runs: this project installed (not editable).

    From a checkout: built once and again only when the project changes (``.mnist-installed``
    holds its fingerprint), without the course's source notebooks, since students run it too.
    From an installed package: the environment it is installed in, as it is.
    """
    env = layout.python_env
    if not FROM_CHECKOUT:
        if env.resolve() != Path(sys.prefix).resolve():
            raise HubError(f"the users' environment {env} is not this one ({sys.prefix}): install the "
                           "package there yourself and run the hub from it, or leave --env out")
        return env
    stamp = env / ".mnist-installed"
    fingerprint = project_fingerprint()
    if stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return env
    if not (env / "bin" / "python").exists():
        run([os.fspath(shared_python()), "-m", "venv", "--without-pip", os.fspath(env)])
    print(f"hub: installing the course into {env} (once; again when the project changes)", flush=True)
    run([sys.executable, "-m", "pip", "--python", os.fspath(env / "bin" / "python"), "install", "--quiet",
         "--disable-pip-version-check", "-c", os.fspath(CHECKOUT / "constraints.txt"), os.fspath(CHECKOUT)])
    for solutions in packaged_solutions(env):
        shutil.rmtree(solutions)  # students' servers run this environment: no solutions in it
    settings = env / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=1) + "\n")
    stamp.write_text(fingerprint + "\n")
    return env

