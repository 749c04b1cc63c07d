"""The prepared MNIST, copied once where every user's server reads it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from autograder.tools.hub.errors import HubError
from autograder.tools.hub.layout import HubLayout
from autograder.tools.hub.permissions import readable_to_all


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
    if target.is_dir() and file_sizes(target) == file_sizes(source):
        return layout.data
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # complete or absent, never half-copied
    readable_to_all(layout.data)
    return layout.data



def file_sizes(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (the cache's arrays in their sub-folder too) and its size."""
    return {os.fspath(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
