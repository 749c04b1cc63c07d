"""Runs on the host: whether grading can work on this machine, checked before a class is graded.

Each check really does what grading does: it starts a sandbox (bubblewrap's namespaces, prlimit,
no network), reads the prepared MNIST as the grading user sees it, imports TensorFlow inside
the sandbox, reads which of nbgrader's Jupyter extensions this user's server enables, opens
the course's exchange and gradebook, and asks a configured Dask scheduler's workers whether
they have the data.  ``mnist-autograder doctor`` prints one line per check;
``grade-all``, and nbgrader's own Autograde (the Formgrader's button, ``nbgrader autograde``:
:mod:`autograder.host.preflight`), run the grading checks first and grade nothing when one fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.host.sandbox import SandboxUnavailable, environment, probe_argv
from autograder.host.settings import SafeGrading, db_url, exchange_root
from mnist_ref.offline_data import is_prepared, prepared_dataset_dir

PROBE_SECONDS = 120  # a sandbox that imports TensorFlow: a few seconds; far more means it hangs
# Run inside the sandbox: what a graded kernel would see (the host's port is passed in argv[1]).
PROBE = """
import json, os, socket, sys
seen = {"network": False, "mnist": False, "tensorflow": ""}
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
    seen["network"] = True
except OSError:
    pass
data = os.path.join(os.environ.get("TFDS_DATA_DIR", ""), "mnist", "3.0.1", "dataset_info.json")
seen["mnist"] = os.path.isfile(data) and os.access(data, os.R_OK)
try:
    if sys.argv[2]:
        import tensorflow as tf
        seen["tensorflow"] = tf.__version__
except Exception as exc:
    seen["tensorflow_error"] = f"{type(exc).__name__}: {exc}"[:300]
print("PROBE " + json.dumps(seen))
"""


@dataclass(frozen=True)
class Finding:
    """One check: passed or not, and what was found, or what to do."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``✔ sandbox: ...`` or ``✘ sandbox: ...``."""
        return f"{'✔' if self.ok else '✘'} {self.name}: {self.detail}"


def check_data() -> Finding:
    """The prepared MNIST, readable by this (the grading) user: grading never downloads it."""
    where = prepared_dataset_dir()
    info = where / "dataset_info.json"
    if not is_prepared():
        return Finding("MNIST", False, f"not prepared in {where.parent.parent} (TFDS_DATA_DIR): run "
                       "`MNIST_IDX_DIR=DIR python -m mnist_ref prepare-data` as the grading user, or "
                       "set TFDS_DATA_DIR to where it was prepared; grading never downloads it")
    if not os.access(info, os.R_OK) or not os.access(where, os.R_OK | os.X_OK):
        return Finding("MNIST", False, f"{where} is not readable by this user; make it readable "
                       "(chmod -R a+rX) or prepare it as the grading user")
    return Finding("MNIST", True, f"prepared in {where}")


def check_sandbox(settings: SafeGrading, tensorflow: bool = True) -> list[Finding]:
    """Start a real sandbox: namespaces and limits work, there is no network, (and) TensorFlow imports."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        try:
            argv = probe_argv(settings.limits, environment(settings.environment()),
                              [sys.executable, "-c", PROBE, str(port), "tensorflow" if tensorflow else ""])
        except SandboxUnavailable as exc:
            return [Finding("sandbox", False, str(exc))]
        try:
            done = subprocess.run(argv, env={}, capture_output=True, text=True, timeout=PROBE_SECONDS)
        except subprocess.TimeoutExpired:
            return [Finding("sandbox", False, f"a sandboxed Python did not finish within {PROBE_SECONDS} s")]
    lines = [line[len("PROBE "):] for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    seen = json.loads(lines[0]) if lines else None
    if seen is None:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return [Finding("sandbox", False, f"bubblewrap could not start a sandbox ({why}). It needs user "
                        "namespaces: allow them (Ubuntu 24.04: an AppArmor profile for bwrap, or "
                        "kernel.apparmor_restrict_unprivileged_userns=0; Docker: a seccomp profile that "
                        "allows unshare/clone, or --privileged; Kubernetes: a pod allowed to create user "
                        "namespaces)")]
    findings = [
        Finding("sandbox", True, "bubblewrap's namespaces and prlimit's limits work"),
        Finding("no network", not seen["network"], "a sandboxed process cannot reach 127.0.0.1" if not
                seen["network"] else "a sandboxed process reached this machine's 127.0.0.1; bwrap must "
                "run with --unshare-net (check that bwrap is the real bubblewrap)"),
        Finding("MNIST in the sandbox", seen["mnist"], "visible to graded notebooks" if seen["mnist"] else
                "graded notebooks cannot see the prepared MNIST; prepare it where TFDS_DATA_DIR points "
                "for the grading user, readable by it"),
    ]
    error = seen.get("tensorflow_error")
    if not tensorflow:
        return findings
    findings.append(Finding("TensorFlow", not error, f"TensorFlow {seen['tensorflow']} imports in the "
                            "sandbox" if not error else f"does not import in the sandbox ({error}); "
                            f"install the course's packages into {sys.prefix}, or raise "
                            "SafeGrading.memory_gb"))
    return findings


def check_extensions() -> Finding:
    """nbgrader's server extensions enabled for this user's Jupyter server, its JupyterLab extension there.

    What the Formgrader's buttons and the students' Assignment List need; ``grade-all`` does not.
    """
    import pkgutil

    import nbgrader.server_extensions
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path, jupyter_path
    from jupyter_server.extension.config import ExtensionConfigManager

    wanted = [f"nbgrader.server_extensions.{m.name}" for m in pkgutil.iter_modules(
        nbgrader.server_extensions.__path__)]
    paths = list(dict.fromkeys([jupyter_config_dir(), *jupyter_config_path()]))  # as Jupyter Server reads
    enabled = ExtensionConfigManager(read_config_path=paths).get_jpserver_extensions()
    off = [name for name in wanted if not enabled.get(name)]
    if off:
        return Finding("nbgrader's extensions", False, f"{', '.join(off)} not enabled for this user's "
                       "Jupyter server: start the course's lab (`mnist-autograder lab`, which enables "
                       "them), or on a hub give this server `mnist-autograder jupyter-config DIR --role "
                       "instructor` as JUPYTER_CONFIG_PATH")
    if not any((Path(p) / "@jupyter" / "nbgrader").is_dir() for p in jupyter_path("labextensions")):
        return Finding("nbgrader's extensions", False, "JupyterLab's nbgrader extension (@jupyter/nbgrader) "
                       f"is not installed in {sys.prefix}: reinstall nbgrader there")
    return Finding("nbgrader's extensions", True, f"{len(wanted)} server extensions and the JupyterLab "
                   "extension (Formgrader, Assignment List, Validate)")


def check_exchange(course: Path) -> Finding:
    """nbgrader's exchange: there and writable, for release, submit and collect."""
    root = exchange_root(course)
    if root is None:
        return Finding("exchange", True, "not configured (grading works; release and collect need one)")
    if not root.is_dir():
        return Finding("exchange", False, f"{root} does not exist; create it (mkdir -m 777 {root}) or set "
                       "c.Exchange.root")
    if not os.access(root, os.W_OK | os.X_OK):
        return Finding("exchange", False, f"{root} is not writable by this user; chmod a+rwx {root}")
    return Finding("exchange", True, f"{root} is writable")


def check_gradebook(course: Path) -> Finding:
    """The gradebook database answers (SQLite: its folder is writable; others: a connection)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = db_url(course)
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database or ".").resolve().parent
        if not os.access(folder, os.W_OK | os.X_OK):
            return Finding("gradebook", False, f"{folder} is not writable for {shown}; fix its permissions")
        return Finding("gradebook", True, f"{shown}")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5}
                               if parsed.get_backend_name() == "postgresql" else {})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver's error: report it
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        return Finding("gradebook", False, f"cannot reach {shown} ({first}); start the database or fix "
                       "db_url (NBGRADER_DB_URL)")
    return Finding("gradebook", True, f"{shown} answers")


def check_scheduler(settings: SafeGrading) -> list[Finding]:
    """A configured Dask scheduler: reachable, with workers that have the prepared MNIST."""
    if not settings.scheduler:
        return []
    from distributed import Client

    try:
        with Client(settings.scheduler, timeout=10) as client:
            found = client.run(is_prepared)
    except OSError as exc:
        return [Finding("Dask", False, f"cannot reach the scheduler {settings.scheduler} ({exc}); start it "
                        "(dask scheduler) or fix c.SafeGrading.scheduler")]
    if not found:
        return [Finding("Dask", False, f"the scheduler {settings.scheduler} has no workers; start some "
                        f"(dask worker {settings.scheduler} --nthreads 1)")]
    missing = sorted(address for address, ok in found.items() if not ok)
    if missing:
        return [Finding("Dask", False, f"worker(s) {', '.join(missing)} have no prepared MNIST; run "
                        "`python -m mnist_ref prepare-data` as their user")]
    return [Finding("Dask", True, f"{len(found)} worker(s) at {settings.scheduler}, each with MNIST")]


def diagnose(course: Path, settings: SafeGrading, before_grading: bool = False) -> list[Finding]:
    """Every check, in order: what grading needs on this machine for this course.

    ``before_grading`` (``grade-all``'s own check): only what grading itself needs, quickly: no
    TensorFlow import (a second or two), no exchange (collecting comes before) and no Jupyter
    extensions (grading needs no server).
    """
    findings = [check_data(), *check_sandbox(settings, tensorflow=not before_grading)]
    if not before_grading:
        findings += [check_extensions(), check_exchange(course)]
    return [*findings, check_gradebook(course), *check_scheduler(settings)]
