"""Fixtures: the offline MNIST folder, throwaway copies of it, the prepared dataset, courses.

Shared helper functions live in tests/helpers.py, imported explicitly.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnist_ref import quiet_tensorflow
from tests.helpers import ROOT

quiet_tensorflow()  # before any test imports TensorFlow


def _absl_logs_to_the_process_stderr() -> None:
    """absl's handler (TensorFlow's logging) keeps the stderr it was imported under, which under
    pytest-xdist is the capture file; when a CLI test's traitlets app reconfigures logging, absl
    closes that file and the capture fails. Pointed at ``sys.__stderr__``, absl never closes it."""
    from absl import logging as absl_logging

    absl_logging.get_absl_handler().python_handler.setStream(sys.__stderr__)


_absl_logs_to_the_process_stderr()


@pytest.fixture(scope="session")
def idx_dir() -> Path:
    """The folder with the four original MNIST IDX .gz files (MNIST_IDX_DIR, default ../shared/mnist)."""
    path = Path(os.environ.get("MNIST_IDX_DIR", ROOT.parent / "shared" / "mnist")).resolve()
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST IDX files not found in {path}: set MNIST_IDX_DIR to that folder")
    return path


@pytest.fixture
def idx_copy(idx_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the IDX folder that a test may damage."""
    copy = tmp_path / "idx"
    copy.mkdir()
    for f in idx_dir.glob("*.gz"):
        shutil.copyfile(f, copy / f.name)
    return copy


@pytest.fixture(scope="session")
def prepared_mnist(idx_dir: Path) -> Path:
    """TFDS's real mnist prepared in the default data dir (tfds.load works offline); that folder."""
    from mnist_ref.offline_data import prepare, prepared_dataset_dir

    prepare(idx_dir)
    return prepared_dataset_dir()


REAL_DATA_FIXTURES = {"idx_dir", "idx_copy", "prepared_mnist"}
SERVER_FIXTURES = {"postgres_server", "postgres_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests on the real MNIST files `mnist`, on a real PostgreSQL `postgres` (not in the fast tier)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if REAL_DATA_FIXTURES & fixtures:
            item.add_marker(pytest.mark.mnist)
        if SERVER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.postgres)


# `make test` runs pytest in two lanes (`-n 2 --dist loadscope`), each one xdist work unit so a
# module's fixtures are built once: LANE_A's modules one after another in one worker, every other
# module in the other; about 24 and 26 minutes on two cores (26 min in all; with
# test_hyperparameters in the other lane, 27 min, that lane running 6 min alone at the end).
# LANE_A holds the classes with the tightest time limits (the hostile cases' 60 s), which so never
# run beside each other.  Tests that look at the machine as a whole look only at what their own
# graders started (a private TMPDIR, tests.helpers.private_tmpdir).
LANE_A = frozenset({
    "test_assignment", "test_course_reach", "test_forgery", "test_gradebook_parity", "test_hostile",
    "test_hyperparameters", "test_judge", "test_judged_checks_api", "test_no_network",
    "test_safe_exchange", "test_whole_submissions"})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadscope`` with two scopes, LANE_A's modules and the rest (pytest-xdist's
    ``xdist_group`` marks would say the same, but ``loadgroup`` ignores them on pytest 9.2:
    pytest-xdist issue 1386)."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "lane A" if Path(nodeid.split("::", 1)[0]).stem in LANE_A else "lane B"

    return Lanes(config, log)


@pytest.fixture
def mock_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """``tfds.load("mnist")`` returns small random data in MNIST's format (TFDS's own mock_data).

    For the fast tier: no real MNIST files, no preparation; 64 images per split, of MNIST's
    shape and dtype.  The split sizes are recorded first, because ``tfds.load(...,
    batch_size=-1)`` (how the judge reads the test set) needs them.  Returns the split size.
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import splits

    size = 64
    builder = tfds.builder("mnist", data_dir=tmp_path)
    builder.info.set_splits(splits.SplitDict([
        splits.SplitInfo(name=name, shard_lengths=[size], num_bytes=0, filename_template=None)
        for name in ("train", "test")]))
    Path(builder.data_dir).mkdir(parents=True)
    builder.info.write_to_directory(builder.data_dir)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))  # "prepared" here: what the judge requires
    with tfds.testing.mock_data(num_examples=size, data_dir=str(tmp_path)):
        yield size


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A fresh nbgrader course directory with the assignment generated (gradebook included)."""
    from autograder.host.course import make_course

    course = tmp_path / "course"
    make_course(course)
    return course


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """A real PostgreSQL server on 127.0.0.1 for this test session (tests/postgres.py)."""
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server, request: pytest.FixtureRequest) -> str:
    """A fresh, empty PostgreSQL database for one test; its SQLAlchemy URL."""
    import re

    name = re.sub(r"\W", "_", request.node.name.lower())[:40] + f"_{os.getpid()}_{id(request) % 10**6}"
    return postgres_server.create_database(name)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Debian Chromium through Playwright, with all background networking off."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.fspath(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty evidence folder that ``write`` writes into, with a fresh record of what it wrote."""
    from autograder.evidence import write
    from autograder.evidence.records import ENV_DIR

    folder = tmp_path / "evidence"
    folder.mkdir()
    monkeypatch.setenv(ENV_DIR, str(folder))
    monkeypatch.setattr(write, "_exported", {})
    monkeypatch.setattr(write, "_calls", {})
    return folder
