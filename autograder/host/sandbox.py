"""Runs on the host: the sandbox the student's kernel and the clean judge run in, with limits.

Both run under bubblewrap in their own mount, PID, IPC, UTS and network namespaces, with no
capabilities, and start from an empty environment plus the variables :data:`ENVIRONMENT`
names: nothing of the grading process's environment (an instructor's API token, a database
password) reaches either.  Neither has a network, not even the host's 127.0.0.1: nbgrader talks
to the kernel over Unix sockets in its runtime folder (:func:`connection`), the judge over its
standard input and output.  Both see the operating system and Python (read-only), the
``autograder`` and ``mnist_ref`` packages (without the course's source notebooks a wheel
carries) and the prepared MNIST data (read-only), and a private, size-limited /tmp; the course
directory (gradebook, source/ with solutions and hidden tests, release/, other students,
autograded/) is not there at all.

The kernel works in a size-limited folder of its own at its submission's path: a copy of the
regular files handed in (:func:`copy_handed_in`: links and special files are left out, trained
models and arrays are empty files), gone when the kernel ends, so nothing it makes there ever
reaches the course.  It writes only there, in /tmp and in the evidence and runtime folders the
host gave it; the judge reads the evidence read-only.  ``prlimit`` caps address space (memory),
file size, open files and processes; bubblewrap kills every process of a sandbox when its
parent goes away.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autograder.evidence.records import ENV_DIR, SAVED_RUN
from autograder.host.course import PACKAGED
from autograder.host.exchange import Refused, open_regular
from mnist_ref.offline_data import tfds_data_dir

KERNEL_NAME = "sandboxed-python3"
SCRATCH_PREFIX = "autograde-"  # a graded kernel's scratch folder in the temporary folder (TMPDIR)
SOCKET_PATH_MAX = 107  # bytes of a Unix socket's path on Linux (sun_path, less its final NUL)
# Trained models, weights and arrays handed in beside the notebook: empty in the graded run,
# so its results come from training in it, not from a file (another student's, or from home).
TRAINED_FILE_SUFFIXES = frozenset({".keras", ".h5", ".hdf5", ".pb", ".ckpt", ".index", ".pkl", ".pickle",
                                   ".joblib", ".npy", ".npz", ".pt", ".pth", ".safetensors", ".tflite"})
PROJECT = Path(__file__).resolve().parents[2]  # holds the autograder and mnist_ref packages
PACKAGES = ("autograder", "mnist_ref")  # the code a kernel may import, read-only
HANDED_IN = "/handed-in"  # inside the kernel's sandbox: the read-only copy its folder starts from
# Thread pools a kernel may size from its environment: TensorFlow's two, OpenMP's and BLAS's.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Every variable a kernel or judge may have; nothing else of the grader's environment reaches them.
ENVIRONMENT = frozenset({
    "PATH", "HOME", "LANG", "MPLCONFIGDIR", "PYTHONDONTWRITEBYTECODE", "TFDS_DATA_DIR",
    "TF_CPP_MIN_LOG_LEVEL", *THREAD_VARIABLES,
    "NBGRADER_EXECUTION",  # nbgrader's "autograde" / "validate", which notebooks may read
    ENV_DIR,  # the kernel's evidence folder
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",  # set on processors where older OpenBLAS builds misbehave
    "PWD",  # set by bubblewrap itself: the working folder
    "JPY_PARENT_PID",  # set by jupyter_client: without it ipykernel prints its connection details to stdout
    "PYTHONPATH",  # a checkout: the kernel and judge import the code the host runs (bound read-only)
})
FROM_HOST = ("NBGRADER_EXECUTION", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # taken as the host has them


class SandboxUnavailable(RuntimeError):
    """bubblewrap or prlimit is missing: grading untrusted code would not be isolated."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (the memory and disk limits come from the SafeGrading settings)."""

    memory_bytes: int
    disk_bytes: int = 512 * 1024**2  # each file, and each of the sandbox's own folders (/tmp, its work)
    open_files: int = 1024
    processes: int = 4096


def tools() -> tuple[str, str]:
    """Paths of bwrap and prlimit, or SandboxUnavailable saying how to install them (or, when the
    temporary folder is too long a path for the kernel's sockets, how to choose another)."""
    bwrap, prlimit = shutil.which("bwrap"), shutil.which("prlimit")
    if not bwrap or not prlimit:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) and prlimit are needed to grade untrusted notebooks safely; "
            "install them with `apt-get install bubblewrap util-linux`"
        )
    connection(Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{'x' * 8}" / "runtime")  # a scratch folder's
    return bwrap, prlimit


def environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a kernel or judge: fixed values, :data:`FROM_HOST`, then ``settings``.

    ValueError for a name :data:`ENVIRONMENT` does not allow, so no caller can add a secret by mistake.
    """
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1",
           "TFDS_DATA_DIR": str(tfds_data_dir().resolve())}
    if PROJECT.name not in ("site-packages", "dist-packages"):  # a checkout, not an installed package
        env["PYTHONPATH"] = str(PROJECT)  # before an editable install's finder: the host's own code
    env.update({name: os.environ[name] for name in FROM_HOST if name in os.environ})
    env.update(settings)
    unknown = sorted(set(env) - ENVIRONMENT)
    if unknown:
        raise ValueError(f"{', '.join(unknown)} may not reach the sandbox (sandbox.ENVIRONMENT)")
    return env


def trained_files(workdir: Path) -> list[Path]:
    """Regular files in ``workdir`` that hold trained models, weights or arrays (empty in the graded run).

    Exercise 10's saved run (``SAVED_RUN`` beside the notebook) is kept: it is graded as what it
    is, a saved run, and the judge evaluates its weights itself.
    """
    return sorted(p for p in workdir.rglob("*") if p.is_file() and not p.is_symlink()
                  and p != workdir / SAVED_RUN
                  and (p.suffix.lower() in TRAINED_FILE_SUFFIXES or ".data-0" in p.name))


def copy_handed_in(workdir: Path, dest: Path) -> list[str]:
    """Copy ``workdir``'s regular files and folders into ``dest``; what was left out, relative to ``workdir``.

    Written by hand because shutil.copytree follows links: each file is opened as the safe
    collect opens it (:func:`~autograder.host.exchange.open_regular`: no link followed, no FIFO,
    socket or device opened, checked on the open file), so one swapped in meanwhile is left out
    too.  Trained models and arrays (:func:`trained_files`) are copied as empty files.
    """
    trained = set(trained_files(workdir))
    left_out: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(os.scandir(workdir), key=lambda e: e.name):
        path, target = Path(entry.path), dest / entry.name
        if entry.is_dir(follow_symlinks=False):
            target.mkdir()
            left_out += [f"{entry.name}/{name}" for name in copy_handed_in(path, target)]
            continue
        try:
            fd, _ = open_regular(str(path))  # the collect's check: no link followed, no special file opened
        except Refused:
            left_out.append(entry.name)
            continue
        with open(fd, "rb") as source:
            with open(target, "xb") as copy:
                if path not in trained:
                    shutil.copyfileobj(source, copy)
    return left_out


def _base_argv(limits: Limits, env: Mapping[str, str]) -> list[str]:
    """prlimit and bubblewrap up to the mounts every sandbox shares (system, packages, data, /tmp)."""
    bwrap, prlimit = tools()
    venv = Path(sys.prefix).resolve()
    base = Path(sys.base_prefix).resolve()
    data = tfds_data_dir().resolve()
    size = str(limits.disk_bytes)
    argv = [
        prlimit, f"--as={limits.memory_bytes}", f"--fsize={limits.disk_bytes}",
        f"--nofile={limits.open_files}", f"--nproc={limits.processes}", "--",
        # --as-pid-1: ipykernel exits when its parent is PID 1, which bwrap's init would be.
        bwrap, "--die-with-parent", "--new-session", "--as-pid-1",
        # --unshare-net: no network, not even the host's 127.0.0.1 (the hub, a database, ...).
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
        "--clearenv", *[arg for name, value in env.items() for arg in ("--setenv", name, value)],
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
        "--size", size, "--tmpfs", "/dev/shm", "--size", size, "--tmpfs", "/tmp",
        "--ro-bind", str(base), str(base), "--ro-bind", str(venv), str(venv),
    ]
    for package in PACKAGES:
        argv += ["--ro-bind", str(PROJECT / package), str(PROJECT / package)]
    if PACKAGED.is_dir():  # the wheel's copy of the course, solutions and all: an empty folder here
        argv += ["--perms", "0555", "--size", "4096", "--tmpfs", str(PACKAGED.resolve())]
    if (data / "mnist").is_dir():
        argv += ["--ro-bind", str(data / "mnist"), str(data / "mnist")]
    return argv


def kernel_argv(workdir: Path, handed_in: Path, evidence: Path, runtime: Path, limits: Limits,
                env: Mapping[str, str]) -> list[str]:
    """The command that starts ipykernel in the sandbox, in a private folder at ``workdir``'s path.

    That folder is a size-limited tmpfs that starts as a copy of ``handed_in`` (see
    :func:`copy_handed_in`); ``env`` is the kernel's whole environment.
    """
    return [
        *_base_argv(limits, env),
        "--ro-bind", str(handed_in), HANDED_IN,
        "--size", str(limits.disk_bytes), "--tmpfs", str(workdir),
        "--bind", str(evidence), str(evidence), "--bind", str(runtime), str(runtime),
        "--chdir", str(workdir),
        # Last: the sandbox's own root (the folders bwrap made for the mounts above) read-only too.
        "--remount-ro", "/",
        "/bin/sh", "-c", f'cp -R {HANDED_IN}/. . ; exec "$@"', "sandboxed-kernel",
        sys.executable, "-m", "ipykernel_launcher", "-f", str(runtime / "connection.json"),
    ]


def judge_argv(evidence: Path, requests: Path, limits: Limits, env: Mapping[str, str]) -> list[str]:
    """The command that starts the clean judge (``--wait``) evidence and requests read-only."""
    return [
        *_base_argv(limits, env),
        "--ro-bind", str(evidence), str(evidence), "--ro-bind", str(requests), str(requests),
        "--chdir", "/tmp", "--remount-ro", "/",
        sys.executable, "-m", "autograder.judge", "--wait",
    ]


def probe_argv(limits: Limits, env: Mapping[str, str], command: list[str]) -> list[str]:
    """``command`` in a sandbox like the judge's, nothing writable but its /tmp: what ``doctor`` runs."""
    return [*_base_argv(limits, env), "--chdir", "/tmp", "--remount-ro", "/", *command]


def connection(runtime: Path) -> dict[str, str]:
    """How nbgrader reaches the sandboxed kernel: ZeroMQ over Unix sockets in ``runtime``.

    Settings of jupyter_client's ``KernelManager``.  The sandbox has no network, so no TCP;
    socket files work across network namespaces, and the sandbox sees ``runtime`` at the same path.
    SandboxUnavailable when the sockets' paths would be too long for Unix sockets (a deep TMPDIR).
    """
    ip = str(runtime / "kernel-ipc")
    longest = len(os.fsencode(ip)) + len("-99")  # jupyter_client's sockets: IP-1, IP-2, ...
    if longest > SOCKET_PATH_MAX:
        raise SandboxUnavailable(
            f"the temporary folder {tempfile.gettempdir()} is too long a path for the sandboxed kernel's "
            f"sockets ({longest} bytes, Unix sockets allow {SOCKET_PATH_MAX}): set TMPDIR to a shorter "
            "folder, such as /tmp")
    return {"transport": "ipc", "ip": ip}


def write_kernel_spec(jupyter_path: Path, argv: list[str]) -> str:
    """Write the sandboxed kernel spec under ``jupyter_path``/kernels, running ``argv`` (:func:`kernel_argv`).

    Returns the spec's name.
    """
    spec_dir = jupyter_path / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    runtime = Path(argv[argv.index("-f") + 1]).parent
    (spec_dir / "sandbox_argv.json").write_text(json.dumps(argv))
    spec = {
        # The launcher copies the connection file (written wherever jupyter_client likes) into
        # the runtime folder the sandbox can see, then execs the sandboxed kernel.
        "argv": [sys.executable, "-m", "autograder.host.kernel_launch", str(spec_dir / "sandbox_argv.json"),
                 str(runtime / "connection.json"), "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        # A signal would reach bwrap, not the kernel: interrupt through the control channel.
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return KERNEL_NAME
