"""The package as an instructor or a student image installs it: a real wheel, no checkout in reach.

The wheel is built from a copy of the project (an in-tree build would write ``build/`` and
``*.egg-info`` into the shared checkout, and a stale ``build/lib`` can smuggle deleted modules
into a wheel).  It is installed into a fresh virtual environment whose third-party packages
(TensorFlow, nbgrader, ...) are hard links to the dev venv's (offline, seconds, no copy), without
this project's editable finder, so only the installed wheel can be imported; the dev venv's
console scripts are rewritten for the fresh interpreter.  Offline: ``--no-index``, no build
isolation (the dev venv's setuptools builds the wheel).  Everything runs in a temporary folder
outside the checkout: ``init`` makes a course there and nbgrader's own commands run the term.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import NOT_TRAINED, PATCH_CHECKS, answered, untrained
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # builds a wheel and a virtual environment (~15 s): not for the quick tier

DIST = "mnist_batch_size_course"
# The steps for an existing hub, which a test runs as written (between <!-- NAME: begin/end --> marks).
EXISTING_HUB_DOC = "docs/existing-hub.md"
PROJECT_FILES = ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in", "LICENSE",
                 "nbgrader_config.py", "jupyterhub_config.py", "constraints.txt")  # the course files too
COURSE_ID = "wheel-course"
ASSIGNMENT = "mnist_batch_size"
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
    shutil.copytree(ROOT / "source", dst / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
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


def _link_dependencies(venv: Path, python: Path, site_packages: Path) -> None:
    """The dev venv's packages and their data as hard links; its console scripts for ``python``."""
    dev_site = Path(sysconfig.get_paths()["purelib"])
    for entry in dev_site.iterdir():
        if entry.name.startswith(("__editable__", f"{DIST}-")) or entry.name in (*PACKAGES, "__pycache__"):
            continue  # this project: only the wheel provides it
        if entry.is_dir():
            shutil.copytree(entry, site_packages / entry.name, copy_function=os.link, symlinks=True)
        else:
            os.link(entry, site_packages / entry.name)
    for data in ("share", "etc"):  # what the dependencies installed beside them (nbconvert's templates, ...)
        if (Path(sys.prefix) / data).is_dir():
            shutil.copytree(Path(sys.prefix) / data, venv / data, copy_function=os.link, symlinks=True,
                            dirs_exist_ok=True)
    dev_python = f"#!{Path(sys.executable).parent / 'python'}"
    for script in Path(sys.executable).parent.iterdir():
        target = venv / "bin" / script.name
        if script.is_file() and not target.exists() and not script.is_symlink():
            lines = script.read_bytes().split(b"\n", 1)
            if len(lines) == 2 and lines[0].decode(errors="replace").startswith(dev_python):
                target.write_bytes(f"#!{python}".encode() + b"\n" + lines[1])
                target.chmod(0o755)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The project's wheel, installed non-editable into a fresh venv with the dev venv's dependencies."""
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
    _ok(_run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
              "--no-cache-dir", wheel], tmp, env))
    _link_dependencies(venv, python, site_packages)
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
    module_help = _ok(_run([installed.python, "-m", module, "--help"], installed.work, installed.env,
                           timeout=120))
    assert helped.stdout.startswith("usage: ") and helped.stdout == module_help.stdout
    # No command: a usage error, exit 2, exactly as `python -m` gives it.
    bare = _run([path], installed.work, installed.env, timeout=120)
    as_module = _run([installed.python, "-m", module], installed.work, installed.env, timeout=120)
    assert bare.returncode == as_module.returncode == 2
    assert bare.stderr == as_module.stderr


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_wheel_carries_the_course_it_was_built_from(installed: Installed):
    from autograder.host.course import TEMPLATE_FILES

    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        carried = {n.removeprefix("autograder/course_files/"): whl.read(n) for n in names
                   if n.startswith("autograder/course_files/")}
    expected = {name: (installed.src / name).read_bytes() for name in TEMPLATE_FILES
                if (installed.src / name).is_file()}
    expected |= {p.relative_to(installed.src).as_posix(): p.read_bytes()
                 for p in (installed.src / "source").rglob("*.ipynb")}
    assert carried == expected
    assert {n.split("/")[1] for n in carried if n.startswith("source/")} == {
        "mnist_batch_size", "mnist_hyperparameters"}


def test_init_from_the_wheel_writes_a_course_once_and_never_overwrites_it(installed: Installed):
    cli = installed.venv / "bin" / "mnist-autograder"
    course = installed.work / "init-twice"
    made = _ok(_run([cli, "init", course, "--course-id", "stats-101"], installed.work, installed.env))
    assert f"a new course in {course}" in made.stdout
    config = (course / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.course_id = \'stats-101\'' in config
    assignments = sorted(p.name for p in (course / "source").iterdir())
    assert assignments == ["mnist_batch_size", "mnist_hyperparameters"]
    (course / "source" / "mnist_batch_size" / "mine.txt").write_text("an instructor's own file")
    before = _digests(course)

    again = _run([cli, "init", course], installed.work, installed.env)
    assert again.returncode == 2, again.stdout
    assert "already holds a course" in again.stderr and "nothing was written" in again.stderr
    other = installed.work / "other"
    bad_id = _run([cli, "init", other, "--course-id", "a b/c"], installed.work, installed.env)
    assert bad_id.returncode == 2 and "course id 'a b/c'" in bad_id.stderr
    assert _digests(course) == before
    assert not other.exists()


def _nbgrader(installed: Installed, cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = _ok(_run([installed.python, "-m", "nbgrader", *args], cwd, env, timeout=900))
    return proc.stdout + proc.stderr


def _student(installed: Installed, env: dict[str, str], name: str, exchange: Path) -> Path:
    """A student's own folder with the nbgrader settings a student's server has."""
    home = installed.work / "students" / name
    home.mkdir(parents=True)
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {os.fspath(home)!r}\n"
        f"c.CourseDirectory.student_id = {name!r}\nc.Exchange.root = {os.fspath(exchange)!r}\n"
        "c.Exchange.path_includes_course = True\n")
    _nbgrader(installed, home, env, "fetch_assignment", ASSIGNMENT, f"--course={COURSE_ID}")
    return home


# Mallory's first answer: the solution notebook the package carries, run in her kernel (her grade
# cells then check the instructor's work).  Eve's: every check in her kernel patched to full marks.
# Their honest twin is the blank release (0 points).
COPY_THE_PACKAGED_SOLUTION = '''import json, os, autograder
found = os.path.join(os.path.dirname(autograder.__file__), "course_files", "source",
                     "mnist_batch_size", "mnist_batch_size.ipynb")
print("packaged solution visible:", os.path.exists(found))
if os.path.exists(found):
    for c in json.load(open(found))["cells"]:
        if c["cell_type"] == "code" and not c["metadata"].get("nbgrader", {}).get("grade"):
            exec("".join(c["source"]))
'''


@pytest.mark.training
def test_a_term_from_the_wheel_alone_grades_safely_with_nbgraders_commands(installed: Installed,
                                                                           prepared_mnist: Path):
    """init, generate, release, fetch, submit, collect, autograde, feedback, export: no checkout in reach."""
    from autograder.host.course import scores_from_gradebook
    from mnist_ref.offline_data import tfds_data_dir

    tmp = installed.work / "term"
    exchange, home = tmp / "exchange", tmp / "home"
    home.mkdir(parents=True)
    env = {**installed.env, "HOME": os.fspath(home), "NBGRADER_EXCHANGE": os.fspath(exchange),
           "PATH": f"{installed.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
           "TFDS_DATA_DIR": os.fspath(tfds_data_dir().resolve())}
    course = tmp / "course"
    cli = installed.venv / "bin" / "mnist-autograder"
    _ok(_run([cli, "init", course, "--course-id", COURSE_ID], tmp, env))
    doctor = _run([cli, "doctor", course], course, env, timeout=600)
    assert doctor.returncode == 1 and f"mkdir -m 777 {exchange}" in doctor.stdout  # the one thing left to do
    exchange.mkdir(mode=0o777)
    doctor = _run([cli, "doctor", course], course, env, timeout=600)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr

    _nbgrader(installed, course, env, "generate_assignment", ASSIGNMENT)
    _nbgrader(installed, course, env, "release_assignment", ASSIGNMENT)
    blank = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    one = json.loads(_ok(_run([cli, "grade", blank, "--json"], tmp, env, timeout=600)).stdout)
    assert one["max_score"] > 0 and one["score"] == 0, one  # `grade` from the package's own course
    for name in ("ada", "mallory", "eve"):
        folder = _student(installed, env, name, exchange)
        fetched = next(folder.rglob(f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"))
        if name == "ada":
            answered(fetched, fetched)
        else:
            import nbformat

            nb = nbformat.read(fetched, as_version=4)
            first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                         and c.cell_type == "code")
            first.source = COPY_THE_PACKAGED_SOLUTION if name == "mallory" else PATCH_CHECKS
            nbformat.write(nb, fetched)
        _nbgrader(installed, folder, env, "submit", ASSIGNMENT, f"--course={COURSE_ID}")
    _nbgrader(installed, course, env, "collect", ASSIGNMENT)
    source_before = _digests(course / "source")
    _nbgrader(installed, course, env, "autograde", ASSIGNMENT)
    _nbgrader(installed, course, env, "generate_feedback", ASSIGNMENT)
    _nbgrader(installed, course, env, "release_feedback", ASSIGNMENT)
    _nbgrader(installed, course, env, "export", "--to=grades.csv")
    _nbgrader(installed, course, env, "export", "--exporter=autograder.host.lms_export.CanvasExport",
              "--to=canvas.csv")
    assert _digests(course / "source") == source_before

    url = f"sqlite:///{course / 'gradebook.db'}"
    ada = scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, "ada")
    assert [(cell, points) for cell, points, most in ada if points != most] == [], ada
    assert sum(most for _, _, most in ada) > 0
    for hostile in ("mallory", "eve"):
        scores = scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, hostile)
        assert [(cell, points) for cell, points, _ in scores if points] == [], (hostile, scores)

    graded = (course / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "packaged solution visible: False" in graded
    for name in ("ada", "mallory", "eve"):
        folder = installed.work / "students" / name
        _nbgrader(installed, folder, env, "fetch_feedback", ASSIGNMENT, f"--course={COURSE_ID}")
        assert list(folder.rglob(f"feedback/*/{ASSIGNMENT}.html")), f"{name} got no feedback"
    grades = (course / "grades.csv").read_text()
    assert "ada" in grades and "mallory" in grades
    assert "Points Possible" in (course / "canvas.csv").read_text()


def _documented_steps(name: str) -> str:
    """The code block EXISTING_HUB_DOC holds between ``<!-- NAME: begin -->`` and ``<!-- NAME: end -->``."""
    text = (ROOT / EXISTING_HUB_DOC).read_text()
    block = text.split(f"<!-- {name}: begin -->", 1)[1].split(f"<!-- {name}: end -->", 1)[0]
    lines = block.strip().splitlines()
    assert lines[0].startswith("```") and lines[-1] == "```", f"{name} is not one code block"
    return "\n".join(lines[1:-1]) + "\n"


def _api(url: str, token: str, method: str = "GET", form: dict | None = None) -> tuple[int, str]:
    """One HTTP request with a JupyterHub token: (status, body)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode(form).encode() if form is not None else (b"" if method == "POST" else None)
    headers = {"Authorization": f"token {token}"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _succeeded(answer: tuple[int, str]) -> dict:
    status, body = answer
    assert status == 200, (status, body[:2000])
    result = json.loads(body)
    assert result.get("success") is not False, json.dumps(result)[:4000]
    return result


INSTRUCTOR_ONLY = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}


@pytest.mark.training
def test_documented_steps_put_the_course_on_a_hub_it_did_not_build(installed: Installed, idx_dir: Path):
    """The steps in docs/existing-hub.md, run as written, on a plain JupyterHub; a term through its API."""
    import getpass
    import secrets
    import signal

    from autograder.host.course import scores_from_gradebook
    from autograder.tools.hub import PROXY
    from tests.browser import wait_until_up
    from tests.helpers import free_ports

    if not PROXY.is_file():
        pytest.fail(f"JupyterHub's proxy is missing ({PROXY}): run `make hub-tools`")
    tmp = installed.work / "plain-hub"
    data, exchange, state, homes = tmp / "tensorflow_datasets", tmp / "exchange", tmp / "state", tmp / "home"
    configs = tmp / "etc" / "mnist-course"
    for folder in (state, homes / "teacher", homes / "ada"):
        folder.mkdir(parents=True)
    path = f"{installed.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    admin = "\n".join(line for line in _documented_steps("existing-hub-admin").splitlines()
                      if " -m pip install " not in line)  # the fixture installed the wheel
    env = {**installed.env, "USER_ENV": os.fspath(installed.venv), "DATA": os.fspath(data),
           "EXCHANGE": os.fspath(exchange), "MNIST_IDX_DIR": os.fspath(idx_dir), "PATH": path,
           "COURSE_CONFIGS": os.fspath(configs),
           "HOME": os.fspath(tmp)}
    _ok(_run(["bash", "-euo", "pipefail", "-c", admin], tmp, env, timeout=600))

    port, token = free_ports(3), secrets.token_hex(16)
    config = tmp / "jupyterhub_config.py"
    config.write_text(f"""c = get_config()
DATA, EXCHANGE, COURSE_CONFIGS = {os.fspath(data)!r}, {os.fspath(exchange)!r}, {os.fspath(configs)!r}
INSTRUCTORS = {{"teacher"}}
c.JupyterHub.ip = c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.port, c.JupyterHub.hub_port = {port}, {port + 2}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{port + 1}"
c.ConfigurableHTTPProxy.command = [{os.fspath(PROXY)!r}]
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {secrets.token_hex(8)!r}
c.Authenticator.allowed_users = {{"teacher", "ada"}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
c.Spawner.cmd = [{os.fspath(installed.venv / "bin" / "jupyterhub-singleuser")!r}]
c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}
c.Spawner.environment = {{"PATH": {path!r}}}
c.Spawner.start_timeout = c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "term", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "term", "services": ["term"],
                            "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
""" + _documented_steps("existing-hub-config"))

    teacher_env = {**env, "HOME": os.fspath(homes / "teacher"), "TFDS_DATA_DIR": os.fspath(data),
                   "NBGRADER_EXCHANGE": os.fspath(exchange),  # what the hub gives the instructor's server
                   "JUPYTER_CONFIG_PATH": os.fspath(configs / "instructor")}
    steps = _ok(_run(["bash", "-euo", "pipefail", "-c", _documented_steps("existing-hub-instructor")],
                     homes / "teacher", teacher_env, timeout=600))
    assert "grading can work here" in steps.stdout
    course = homes / "teacher" / "mnist-course"

    log = tmp / "hub.log"
    with log.open("w") as out:
        hub = subprocess.Popen([installed.python, "-m", "jupyterhub", "-f", config], cwd=state, env=env,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/hub/health", hub, log, 120, "JupyterHub")
        for user in ("teacher", "ada"):
            _api(f"{url}/hub/api/users/{user}", token, "POST")
            status, body = _api(f"{url}/hub/api/users/{user}/server", token, "POST")
            assert status in (201, 202), (status, body)
        for user in ("teacher", "ada"):
            deadline = time.monotonic() + 120
            while not json.loads(_api(f"{url}/hub/api/users/{user}", token)[1])["servers"].get(
                    "", {}).get("ready"):
                assert time.monotonic() < deadline and hub.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
        teacher, ada = f"{url}/user/teacher", f"{url}/user/ada"
        # The Formgrader, and Create Assignment, for the instructor only.
        assert _api(f"{teacher}/formgrader/api/status", token)[0] == 200
        assert _api(f"{ada}/formgrader/api/status", token)[0] == 404
        for who, page in (("teacher", f"{teacher}/lab"), ("ada", f"{ada}/lab")):
            found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                              _api(page, token)[1], re.S)
            assert found, (who, "no page config")
            disabled = json.loads(found.group(1))["disabledExtensions"]
            hidden = INSTRUCTOR_ONLY & set(disabled)
            assert hidden == (set() if who == "teacher" else INSTRUCTOR_ONLY), (who, disabled)

        fg = f"{teacher}/formgrader/api"
        _succeeded(_api(f"{fg}/assignment/{ASSIGNMENT}/assign", token, "POST"))
        _succeeded(_api(f"{fg}/assignment/{ASSIGNMENT}/release", token, "POST"))
        course_form = {"course_id": "mnist-batch-size", "assignment_id": ASSIGNMENT}
        _succeeded(_api(f"{ada}/assignments/fetch", token, "POST", course_form))
        fetched = homes / "ada" / "mnist-batch-size" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        untrained(fetched, fetched)  # real work, training left undone: graded in seconds
        _succeeded(_api(f"{ada}/assignments/submit", token, "POST", course_form))
        _succeeded(_api(f"{fg}/assignment/{ASSIGNMENT}/collect", token, "POST"))
        student = getpass.getuser()  # one Unix account for both servers here: nbgrader submits under its name
        _succeeded(_api(f"{fg}/submission/{ASSIGNMENT}/{student}/autograde", token, "POST"))
        _succeeded(_api(f"{fg}/assignment/{ASSIGNMENT}/{student}/generate_feedback", token, "POST"))
        _succeeded(_api(f"{fg}/assignment/{ASSIGNMENT}/{student}/release_feedback", token, "POST"))
        _succeeded(_api(f"{ada}/assignments/fetch_feedback", token, "POST", course_form))
    finally:
        os.killpg(hub.pid, signal.SIGTERM)
        try:
            hub.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
    scores = scores_from_gradebook(f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT, ASSIGNMENT, student)
    short = sorted(cell for cell, points, most in scores if points != most)
    assert scores and short == sorted(NOT_TRAINED), scores  # every point but those of the runs not trained
    assert list((homes / "ada" / "mnist-batch-size" / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html"))
