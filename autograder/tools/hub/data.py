"""The prepared MNIST, copied once where every user's server reads it."""

from __future__ import annotations

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

