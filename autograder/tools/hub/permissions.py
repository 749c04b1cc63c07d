"""Who may read what under the hub's root: every user reads the shared environment, data and settings."""

from __future__ import annotations

from pathlib import Path


def readable_by_all(path: Path) -> bool:
    """True when any user can reach ``path``: every folder above it searchable by others."""
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o004)


def readable_to_all(folder: Path) -> None:
    """Make ``folder`` and everything in it readable (not writable) by every user."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

