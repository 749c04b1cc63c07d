"""Runs on the host: a Jupyter kernel spec that runs the student's kernel in a sandbox, with limits.

The kernel runs under bubblewrap in its own mount, PID, IPC, UTS and network namespaces, with
no capabilities.  It has no network at all, not even the host's 127.0.0.1 (a loopback of its
own, where nothing listens): nbgrader talks to it over Unix sockets in its runtime folder
(:func:`connection`).  The file system it sees is the operating system and Python (read-only),
the course's ``autograder`` and ``mnist_ref`` packages and the prepared MNIST data (read-only),
a private /tmp, the folder of its own submission, the evidence folder and its runtime folder.
The course directory (gradebook, source/ with solutions and hidden tests, release/, other
students) is not there at all; trained models and arrays handed in beside the notebook read as
empty files, and everything else outside its own folders is read-only.  ``prlimit`` caps its
address space (memory), open files and processes; bubblewrap kills every process of the
sandbox when the kernel's parent goes away.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.evidence.records import SAVED_RUN
from mnist_ref.offline_data import tfds_data_dir

KERNEL_NAME = "sandboxed-python3"
# Trained models, weights and arrays handed in beside the notebook: hidden from the graded run,
# so its results come from training in it, not from a file (another student's, or from home).
TRAINED_FILE_SUFFIXES = frozenset({".keras", ".h5", ".hdf5", ".pb", ".ckpt", ".index", ".pkl", ".pickle",
                                   ".joblib", ".npy", ".npz", ".pt", ".pth", ".safetensors", ".tflite"})
PROJECT = Path(__file__).resolve().parents[2]  # holds the autograder and mnist_ref packages
PACKAGES = ("autograder", "mnist_ref")  # the code a kernel may import, read-only


class SandboxUnavailable(RuntimeError):
    """bubblewrap or prlimit is missing: grading untrusted code would not be isolated."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (the memory limit comes from the SafeGrading settings)."""

    memory_bytes: int
    open_files: int = 1024
    processes: int = 4096


def tools() -> tuple[str, str]:
    """Paths of bwrap and prlimit, or SandboxUnavailable saying how to install them."""
    bwrap, prlimit = shutil.which("bwrap"), shutil.which("prlimit")
    if not bwrap or not prlimit:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) and prlimit are needed to grade untrusted notebooks safely; "
            "install them with `apt-get install bubblewrap util-linux`"
        )
    return bwrap, prlimit


def trained_files(workdir: Path) -> list[Path]:
    """Files in ``workdir`` that hold trained models, weights or arrays (hidden from the kernel).

    Exercise 10's saved run (``SAVED_RUN`` beside the notebook) stays visible: it is graded as
    what it is, a saved run, and the judge evaluates its weights itself.
    """
    return sorted(p for p in workdir.rglob("*") if p.is_file() and p != workdir / SAVED_RUN and (
        p.suffix.lower() in TRAINED_FILE_SUFFIXES or ".data-0" in p.name))


def kernel_argv(workdir: Path, evidence: Path, runtime: Path, limits: Limits) -> list[str]:
    """The command that starts ipykernel inside the sandbox, chdir'ed into ``workdir``.

    Files of :func:`trained_files` read as empty inside the sandbox.
    """
    bwrap, prlimit = tools()
    python = Path(sys.executable)
    venv = Path(sys.prefix).resolve()
    base = Path(sys.base_prefix).resolve()
    data = tfds_data_dir().resolve()
    argv = [
        prlimit, f"--as={limits.memory_bytes}", f"--nofile={limits.open_files}",
        f"--nproc={limits.processes}", "--",
        # --as-pid-1: ipykernel exits when its parent is PID 1, which bwrap's init would be.
        bwrap, "--die-with-parent", "--new-session", "--as-pid-1",
        # --unshare-net: no network, not even the host's 127.0.0.1 (the hub, a database, ...).
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--ro-bind", str(base), str(base), "--ro-bind", str(venv), str(venv),
    ]
    for package in PACKAGES:
        argv += ["--ro-bind", str(PROJECT / package), str(PROJECT / package)]
    if (data / "mnist").is_dir():
        argv += ["--ro-bind", str(data / "mnist"), str(data / "mnist")]
    argv += [
        "--bind", str(workdir), str(workdir), "--bind", str(evidence), str(evidence),
        "--bind", str(runtime), str(runtime),
        *[arg for path in trained_files(workdir) for arg in ("--ro-bind", "/dev/null", str(path))],
        "--setenv", "HOME", "/tmp", "--setenv", "TFDS_DATA_DIR", str(data),
        "--setenv", "MPLCONFIGDIR", "/tmp", "--chdir", str(workdir),
        # Last: the sandbox's own root (the folders bwrap made for the mounts above) read-only too.
        "--remount-ro", "/",
        str(python), "-m", "ipykernel_launcher", "-f", str(runtime / "connection.json"),
    ]
    return argv


def connection(runtime: Path) -> dict[str, str]:
    """How nbgrader reaches the sandboxed kernel: ZeroMQ over Unix sockets in ``runtime``.

    Settings of jupyter_client's ``KernelManager``.  The sandbox has no network, so no TCP;
    socket files work across network namespaces, and the sandbox sees ``runtime`` at the same path.
    """
    return {"transport": "ipc", "ip": str(runtime / "kernel-ipc")}


def write_kernel_spec(jupyter_path: Path, workdir: Path, evidence: Path, runtime: Path,
                      limits: Limits, env: dict[str, str]) -> str:
    """Write the sandboxed kernel spec under ``jupyter_path``/kernels, the kernel running with ``env``.

    Returns the spec's name.
    """
    spec_dir = jupyter_path / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "sandbox_argv.json").write_text(json.dumps(kernel_argv(workdir, evidence, runtime, limits)))
    spec = {
        # The launcher copies the connection file (written wherever jupyter_client likes) into
        # the runtime folder the sandbox can see, then execs the sandboxed kernel.
        "argv": [sys.executable, "-m", "autograder.host.sandbox", str(spec_dir / "sandbox_argv.json"),
                 str(runtime / "connection.json"), "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        # A signal would reach bwrap, not the kernel: interrupt through the control channel.
        "interrupt_mode": "message",
        "env": {**env, "PYTHONDONTWRITEBYTECODE": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return KERNEL_NAME


def launch(argv_file: str, inside: str, connection_file: str) -> None:
    """Copy the connection file where the sandbox sees it, then replace this process by the kernel.

    Refuses a connection over TCP: the kernel, without a network, could never be reached.
    """
    transport = json.loads(Path(connection_file).read_text()).get("transport")
    if transport != "ipc":
        sys.exit(f"the sandboxed kernel has no network: connect to it over 'ipc', not {transport!r} "
                 "(autograder.host.sandbox.connection)")
    shutil.copyfile(connection_file, inside)
    argv = json.loads(Path(argv_file).read_text())
    os.execv(argv[0], argv)


if __name__ == "__main__":
    launch(*sys.argv[1:4])
