"""JupyterLab for the course, with nbgrader's extensions: ``mnist-autograder lab``, or ``python -m
autograder.tools.lab`` (``make lab``) with the same options (:class:`Lab`).

Starts JupyterLab on localhost with the course directory (default: the current folder) as both
the server's root and its working directory, which is where nbgrader's Formgrader reads
``nbgrader_config.py``.  Its configuration lives in a Jupyter config folder of its own
(``<course>/.jupyter-lab``, written at every start and passed as ``JUPYTER_CONFIG_DIR``), so
the user's ``~/.jupyter`` is neither read nor changed.  That folder enables

* the server extensions of nbgrader 0.9 (``nbgrader.server_extensions.formgrader``,
  ``validate_assignment``, ``assignment_list``, ``course_list``), and
* every plugin of nbgrader's JupyterLab extension ``@jupyter/nbgrader``: the Nbgrader menu
  (Assignment List, Courses, Formgrader), the notebook toolbar's Validate button and the
  Create Assignment panel for instructors.

The kernel finds the prepared TFDS ``mnist`` (``python -m mnist_ref prepare-data``) in
``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``; nothing is downloaded.  Its ``python3`` kernel
spec (in the same folder, first on ``JUPYTER_PATH``) starts ipykernel through
:mod:`autograder.host.kernel_stderr`, so TensorFlow's start-up log lines stay out of the terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets import Bool, Int, Unicode, default

from autograder.host.settings import ConfigError, course_config, load_settings
from autograder.tools.command import PROG, Command, launch

CONFIG_DIR_NAME = ".jupyter-lab"
MODULE = "python -m autograder.tools.lab"
PORT_ENV, PORT = "LAB_PORT", 8888  # the server's port: $LAB_PORT, else 8888
# Run with the server's environment: prints the course's Exchange.root, or nothing.
READ_EXCHANGE = ("import sys; from autograder.host.settings import exchange_root; "
                 "print(exchange_root(sys.argv[1]) or '')")

SERVER_EXTENSIONS = (
    "jupyterlab",
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
LAB_PLUGINS = (
    "@jupyter/nbgrader",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:validate-assignment",
)
# What only instructors get (autograder/tools/hub/ gives students the rest).
INSTRUCTOR_ONLY = frozenset({"nbgrader.server_extensions.formgrader", "@jupyter/nbgrader:formgrader",
                             "@jupyter/nbgrader:create-assignment"})


class LabError(RuntimeError):
    """The lab cannot start; the message says why and how to fix it."""


@dataclass
class LabLaunch:
    """Everything needed to start the server: command line, environment and working directory."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    config_dir: Path
    exchange: Path | None


def write_config(config_dir: Path, instructor: bool = True) -> None:
    """Write the Jupyter config folder that enables nbgrader's server and lab extensions.

    A student's (``instructor=False``) has no Formgrader and no Create Assignment panel.
    """
    def enabled(name: str) -> bool:
        return instructor or name not in INSTRUCTOR_ONLY

    config_dir.mkdir(parents=True, exist_ok=True)
    server = {
        "ServerApp": {"jpserver_extensions": {name: enabled(name) for name in SERVER_EXTENSIONS}},
        # The course machines are offline: no news feed, update check or PyPI extension manager.
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly"},
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server, indent=2) + "\n")
    # Highest-priority page config: sets nbgrader's plugins whatever a site config says.
    page = {"disabledExtensions": {name: not enabled(name) for name in LAB_PLUGINS}}
    (config_dir / "labconfig").mkdir(exist_ok=True)
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=2) + "\n")
    # JupyterLab's user settings live here too; only the first start writes a default (no news prompt).
    notification = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    if not (notification / "notification.jupyterlab-settings").exists():
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')


def write_kernel(data_dir: Path) -> None:
    """The ``python3`` kernel spec the lab's server finds first: ipykernel, its stderr filtered."""
    spec = data_dir / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.host.kernel_stderr",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (ipykernel)", "language": "python",
              "metadata": {"debugger": True}}
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=2) + "\n")


def check_mnist() -> Path:
    """The prepared TFDS mnist folder; LabError with the fix when it is missing."""
    from mnist_ref.offline_data import is_prepared, prepared_dataset_dir

    if not is_prepared():
        raise LabError(f"TFDS mnist is not prepared in {prepared_dataset_dir()}: run `make data` "
                       "(or `python -m mnist_ref prepare-data` with MNIST_IDX_DIR set) first")
    return prepared_dataset_dir()


def exchange_root(course: Path, env: dict[str, str]) -> Path | None:
    """The course's Exchange.root as the server will read it: nbgrader's configuration loaded in a
    process with the server's environment ``env`` (its config folder; the config reads NBGRADER_EXCHANGE)."""
    proc = subprocess.run([sys.executable, "-c", READ_EXCHANGE, os.fspath(course)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no message"]
        raise LabError(f"cannot read the course's Exchange.root: {lines[-1]}")
    return Path(proc.stdout.strip()) if proc.stdout.strip() else None


def lab_env(course: Path, config_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's (and so the kernels') environment: venv first on PATH, own config, quiet TF."""
    from mnist_ref.offline_data import tfds_data_dir

    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader calls alembic
    env["JUPYTER_CONFIG_DIR"] = os.fspath(config_dir)
    data = [os.fspath(config_dir / "data"), env.get("JUPYTER_PATH")]  # the lab's kernel spec first
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, data))
    env["TFDS_DATA_DIR"] = os.fspath(tfds_data_dir())
    # Only the log level: a student's own kernel keeps every core (kernel_threads is for grading).
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", str(load_settings(course).tensorflow_log_level))
    return env


def prepare_lab(course: Path = Path("."), port: int = PORT, token: str | None = None,
                open_browser: bool = True, config_dir: Path | None = None,
                extra_args: list[str] | None = None, env: dict[str, str] | None = None) -> LabLaunch:
    """Check the course and data, write the config folder, and build the JupyterLab command."""
    course = Path(course).resolve()
    try:
        course_config(course)
    except ConfigError as exc:
        raise LabError(str(exc)) from exc
    check_mnist()
    config_dir = Path(config_dir).resolve() if config_dir else course / CONFIG_DIR_NAME
    write_config(config_dir)
    write_kernel(config_dir / "data")
    env = lab_env(course, config_dir, env)
    exchange = exchange_root(course, env)
    if exchange is not None:
        try:  # nbgrader's Exchange needs the folder to exist and be writable
            exchange.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"lab: cannot create the exchange {exchange}: {exc}", file=sys.stderr)
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={course}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; Jupyter refuses that unless told
        command.append("--ServerApp.allow_root=True")
    if token is not None:  # None: Jupyter makes a random token and prints the URL with it
        command.append(f"--IdentityProvider.token={token}")
    command += extra_args or []
    return LabLaunch(command, env, course, config_dir, exchange)


class Lab(Command):
    """JupyterLab with nbgrader's extensions for a course, on 127.0.0.1, in a Jupyter config folder of its
    own (COURSE/.jupyter-lab); JupyterLab's own options go after --."""

    name = f"{PROG} lab"
    positional = (0, sys.maxsize)  # JupyterLab's options, after --
    owners, hint = ("Lab",), "JupyterLab's own options go after --, e.g. -- --ServerApp.base_url=/course/"
    settings_classes = ()
    course_dir = Unicode(".", help="The course directory, with nbgrader_config.py (default: the current "
                         "folder).").tag(config=True)
    port = Int(PORT, help=f"The server's port on 127.0.0.1 (default: ${PORT_ENV}, else {PORT}).", min=0,
               max=65535).tag(config=True)
    token = Unicode(None, allow_none=True, help="The login token (default: a random one, printed in the "
                    "URL).").tag(config=True)
    open_browser = Bool(True, help="Open a web browser on the lab.").tag(config=True)
    aliases = {**Command.aliases, "course": "Lab.course_dir", "port": "Lab.port", "token": "Lab.token"}
    flags = {**Command.flags, "no-browser": ({"Lab": {"open_browser": False}}, "Do not open a web browser.")}
    examples = f"{PROG} lab --course fall-course --port 8890 --no-browser -- --ServerApp.base_url=/course/"

    @property
    def usage(self) -> str:
        return f"{super().usage} [-- JUPYTERLAB_OPTIONS]"

    @default("port")
    def _port_default(self) -> int:
        value = os.environ.get(PORT_ENV, str(PORT))
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{PORT_ENV}={value!r} is refused: it must be a port number") from None

    def run(self) -> int:
        """Check the course and data, then replace this process with JupyterLab."""
        try:
            lab = prepare_lab(Path(self.course_dir), self.port, self.token, self.open_browser,
                              extra_args=self.extra_args)
        except LabError as exc:
            print(f"lab: {exc}", file=sys.stderr)
            return 2
        print(f"Course:   {lab.cwd}\nExchange: {lab.exchange or 'not configured'}\n"
              f"MNIST:    {lab.env['TFDS_DATA_DIR']}\nConfig:   {lab.config_dir}\n"
              "In JupyterLab: Nbgrader menu > Formgrader (instructors), "
              "Nbgrader > Assignment List and the notebook's Validate button (students).", flush=True)
        os.chdir(lab.cwd)  # the Formgrader reads nbgrader_config.py from the working directory
        os.execve(sys.executable, lab.command, lab.env)
        return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.tools.lab``: the :class:`Lab` command under its module's name."""
    command = Lab()
    command.name = MODULE  # for its usage line and help (a class attribute, not a trait)
    return launch(command, argv, "lab")


if __name__ == "__main__":
    sys.exit(main())
