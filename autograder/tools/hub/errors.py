"""How a set-up step of the hub fails: :class:`HubError`, and :func:`run` for the commands it runs."""

from __future__ import annotations

import subprocess


class HubError(RuntimeError):
    """The hub cannot be prepared or started; the message says why and how to fix it."""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a set-up command; HubError with its output when it fails."""
    proc = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        said = "\n".join(ln for ln in lines if not ln.startswith("WARNING:"))[-3000:]  # pip's index noise
        raise HubError(f"`{' '.join(command)}` failed:\n{said}")
    return proc

