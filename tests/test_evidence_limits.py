"""Reading evidence costs the judge no more than honest evidence does, whatever the kernel left.

Honest evidence is written with the kernel's own writer; each test copies it, puts one attack
beside it (a link to /dev/zero, a named pipe, a zip bomb, a huge file, thousands of files, ...)
and checks that the attack is refused as MissingEvidence saying why, quickly and without
reading it, and that the honest evidence beside it loads to the same objects as without it.
Fast: no MNIST, one tiny training run.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from autograder.evidence import read
from autograder.evidence import write as evidence
from autograder.evidence.read import load
from autograder.evidence.records import (
    ENV_DIR,
    DatasetEvidence,
    FunctionEvidence,
    HistoryEvidence,
    MissingEvidence,
    SavedRun,
)

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")

REFUSED = "was refused for grading: "


# --- honest evidence, written by the kernel's writer -----------------------------------------------

def _honest_objects() -> dict[str, Any]:
    """One notebook variable of every kind evidence knows, the model trained for real (briefly)."""
    from mnist_ref.model import build_model, compile_model

    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images, labels = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    model = compile_model(build_model())
    history = model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(64, seed=1).batch(16)
    return {
        "test_accuracy": 0.97,
        "answer_text": "batch 100",
        "model_100": model,
        "history_100": history,
        "train_data": data,
        "updates_per_epoch": lambda batch_size: -(-54_000 // batch_size),
        "best_run": SavedRun({"hidden_layer_size": 50, "depth": 2, "activation": "relu"},
                             {"val_accuracy": [0.5]}, model.get_weights()),
    }


@pytest.fixture(scope="module")
def honest(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """(an honest evidence folder, what the judge loads from it)."""
    folder = tmp_path_factory.mktemp("honest") / "evidence"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_DIR, str(folder))
        mp.setattr(evidence, "_exported", {})
        for name, value in _honest_objects().items():
            evidence.write(name, value)
    loaded = load(folder)
    assert not [v for v in loaded.values() if isinstance(v, MissingEvidence)], loaded
    return folder, loaded


@pytest.fixture
def folder(honest, tmp_path: Path) -> Path:
    """A copy of the honest evidence folder for one test to add an attack to."""
    return Path(shutil.copytree(honest[0], tmp_path / "evidence"))


def _same(a: Any, b: Any) -> bool:
    """Whether two loaded evidence objects are the same (models: architecture, weights, updates)."""
    if isinstance(a, tf.keras.Model):
        return (a.to_json() == b.to_json() and int(a.optimizer.iterations) == int(b.optimizer.iterations)
                and all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True)))
    if isinstance(a, DatasetEvidence):
        return a.facts == b.facts and all(np.array_equal(x, y)
                                          for x, y in zip(a.epochs, b.epochs, strict=True))
    if isinstance(a, SavedRun):
        return (a.config == b.config and a.history == b.history
                and all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True)))
    if isinstance(a, (HistoryEvidence, FunctionEvidence)):
        return type(a) is type(b) and a == b
    return a == b


def _assert_honest_unchanged(loaded: dict[str, Any], honest: tuple[Path, dict[str, Any]],
                             except_: tuple[str, ...] = ()) -> None:
    """Every honest variable (but ``except_``) loads as it does without the attack beside it."""
    for name, value in honest[1].items():
        if name.partition(".")[0] not in except_:
            assert name in loaded and _same(loaded[name], value), (name, loaded.get(name))


def _refused(loaded: dict[str, Any], name: str, why: str) -> str:
    """The reason ``name`` was refused, checked to say ``why``."""
    value = loaded.get(name)
    assert isinstance(value, MissingEvidence), (name, value)
    assert value.reason.startswith(REFUSED) and why in value.reason, value.reason
    return value.reason


def _load_light(folder: Path, seconds: float = 5.0, peak_mib: float = 16.0) -> dict[str, Any]:
    """load(folder), checked to take under ``seconds`` and to allocate under ``peak_mib`` at its peak."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        loaded = load(folder)
        elapsed, (_, peak) = time.monotonic() - start, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < peak_mib * read.MiB, f"allocated {peak / read.MiB:.1f} MiB at its peak"
    return loaded


# --- attack material ------------------------------------------------------------------------------

def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _claim_size(data: bytes, member: str, size: int) -> bytes:
    """A zip whose directory claims ``member`` expands to ``size`` bytes (its data unchanged)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", out, at + 28)
        if out[at + 46:at + 46 + name_length].decode() == member:
            struct.pack_into("<L", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 46 + name_length + extra_length + comment_length)
    with zipfile.ZipFile(io.BytesIO(bytes(out))) as archive:
        assert archive.getinfo(member).file_size == size
    return bytes(out)


def _npy(array: np.ndarray, **header: Any) -> bytes:
    """``array`` as a .npy file, its header's fields replaced by ``header``'s."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {**np.lib.format.header_data_from_array_1_0(array), **header})
    return buffer.getvalue() + array.tobytes()


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory) -> Path:
    """A 1 MB .npz whose member is 1 GiB of zeros (written in 1 MiB pieces: light to make)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    zeros = bytes(read.MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("epoch1.npy", "w", force_zip64=True) as member:
            member.write(_npy(np.zeros(0, np.uint64), shape=(1 << 27,)))  # 1 GiB of uint64
            for _ in range(1024):
                member.write(zeros)
    assert path.stat().st_size < 2 * read.MiB
    return path


def _h5(build: Callable[[Any], None]) -> bytes:
    """An HDF5 file made by ``build(file)``, as bytes."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return buffer.getvalue()


# --- honest evidence alone ------------------------------------------------------------------------

def test_honest_evidence_loads_whole_with_the_limits_in_place(honest):
    _, loaded = honest
    assert isinstance(loaded["model_100"], tf.keras.Model)
    assert int(loaded["history_100.model"].optimizer.iterations) == 4  # its optimizer state came too
    assert isinstance(loaded["history_100"], HistoryEvidence)
    assert [len(e) for e in loaded["train_data"].epochs] == [64, 64]
    assert loaded["updates_per_epoch"](7) == 7_715
    assert len(loaded["best_run"].weights) == 6
    assert loaded["test_accuracy"] == 0.97 and loaded["answer_text"] == "batch 100"


def test_keras_gets_a_private_copy_of_the_checked_bytes_in_safe_mode(folder, monkeypatch):
    """The kernel's path is never handed to Keras: a file swapped after the check changes nothing."""
    calls = []
    original = tf.keras.models.load_model

    def spy(path, **kwargs):
        calls.append((Path(path), kwargs.get("safe_mode")))
        return original(path, **kwargs)

    monkeypatch.setattr(tf.keras.models, "load_model", spy)
    load(folder)
    assert len(calls) == 2 and all(safe is True for _, safe in calls)
    assert not any(path.is_relative_to(folder) for path, _ in calls)
    assert not any(path.exists() for path, _ in calls)  # the private copies are gone afterwards


def test_a_lambda_layer_is_not_deserialized(folder):
    """safe_mode: a model whose Lambda layer carries the kernel's bytecode is refused, not run."""
    inputs = tf.keras.Input(shape=(2,))
    model = tf.keras.Model(inputs, tf.keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(folder / "model_lambda.keras")
    loaded = load(folder)
    assert isinstance(loaded["model_lambda"], MissingEvidence)
    assert "could not be read back for grading (ValueError)" in loaded["model_lambda"].reason


# --- files that are not regular files -------------------------------------------------------------

@pytest.mark.timeout(30)
def test_a_json_linked_to_dev_zero_is_refused_unread(folder, honest):
    (folder / "num_test_samples.json").symlink_to("/dev/zero")
    loaded = _load_light(folder)
    _refused(loaded, "num_test_samples", "num_test_samples.json is not a regular file (a symbolic link)")
    _assert_honest_unchanged(loaded, honest)


@pytest.mark.timeout(30)
def test_a_named_pipe_named_like_evidence_is_refused_without_waiting_for_a_writer(folder, honest):
    os.mkfifo(folder / "history_1.history.json")
    loaded = _load_light(folder)
    _refused(loaded, "history_1", "history_1.history.json is not a regular file (a named pipe)")
    _assert_honest_unchanged(loaded, honest)


def test_a_model_linked_to_a_file_outside_the_folder_is_refused(folder, honest, tmp_path):
    outside = tmp_path / "elsewhere" / "model.keras"
    outside.parent.mkdir()
    shutil.copyfile(folder / "model_100.keras", outside)  # a perfectly good model, but not here
    (folder / "model_linked.keras").symlink_to(outside)
    (folder / "history_100.model.keras").unlink()
    (folder / "history_100.model.keras").symlink_to(outside)
    loaded = load(folder)
    _refused(loaded, "model_linked", "model_linked.keras is not a regular file (a symbolic link)")
    assert loaded["history_100"].reason == (
        f"{REFUSED}history_100.model.keras is not a regular file (a symbolic link)")
    _assert_honest_unchanged(loaded, honest, except_=("history_100",))


def test_a_folder_or_socket_named_like_evidence_is_refused(folder, honest, monkeypatch):
    (folder / "model_dir.keras").mkdir()
    monkeypatch.chdir(folder)  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("answer_socket.json")
        loaded = _load_light(folder)
    _refused(loaded, "model_dir", "model_dir.keras is not a regular file (a folder)")
    _refused(loaded, "answer_socket", "answer_socket.json is not a regular file (a socket)")
    _assert_honest_unchanged(loaded, honest)


# --- sizes ----------------------------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_a_file_over_its_size_limit_is_refused_before_it_is_read(folder, honest):
    """Sparse files: their size is what they claim, and reading them would cost the judge that much."""
    with open(folder / "model_huge.keras", "wb") as f:
        f.truncate(40 << 30)
    with open(folder / "answer_long.json", "wb") as f:
        f.truncate(read.MAX_JSON_BYTES + read.MiB)
    loaded = _load_light(folder)
    _refused(loaded, "model_huge", "model_huge.keras is 40 GiB, over the 128 MiB limit for one evidence file")
    _refused(loaded, "answer_long", "answer_long.json is 9 MiB, over the 8 MiB limit")
    _assert_honest_unchanged(loaded, honest)


def test_evidence_past_the_folders_total_is_refused_and_what_came_first_still_loads(folder, honest,
                                                                                  monkeypatch):
    used = sum(p.stat().st_size for p in folder.iterdir())
    monkeypatch.setattr(read, "MAX_TOTAL_BYTES", used + 300_000)  # room for best_run's arrays to expand
    assert (folder / "model_100.keras").stat().st_size > 300_000
    shutil.copyfile(folder / "model_100.keras", folder / "zz_model.keras")
    loaded = load(folder)
    _refused(loaded, "zz_model", "zz_model.keras (")
    assert "would bring the evidence read from this folder over the" in loaded["zz_model"].reason
    _assert_honest_unchanged(loaded, honest)


def test_json_past_the_folders_json_total_is_refused(folder, honest, monkeypatch):
    used = sum(p.stat().st_size for p in folder.glob("*.json"))
    monkeypatch.setattr(read, "MAX_TOTAL_JSON_BYTES", used + 100)
    (folder / "zz_answer.json").write_text('{"value": "' + "x" * 200 + '"}')
    loaded = load(folder)
    _refused(loaded, "zz_answer", "would bring the JSON read from this folder over the")
    _assert_honest_unchanged(loaded, honest)


@pytest.mark.timeout(120)
def test_thousands_of_files_are_read_up_to_the_limit_and_the_rest_refused_quickly(folder, honest):
    for i in range(3_000):
        (folder / f"zz_junk_{i:04d}.json").write_text('{"value": 1}')
    start = time.monotonic()
    loaded = load(folder)
    assert time.monotonic() - start < 30
    _assert_honest_unchanged(loaded, honest)  # its names sort first: read before the junk
    junk = [loaded[f"zz_junk_{i:04d}"] for i in range(3_000)]
    read_ = [j for j in junk if not isinstance(j, MissingEvidence)]
    honest_files = len([p for p in folder.iterdir() if not p.name.startswith("zz_")])
    assert len(read_) == read.MAX_ENTRIES - honest_files  # the honest ones were opened first
    _refused(loaded, "zz_junk_2999", "zz_junk_2999.json is past the first 2,000 evidence files, the most "
             "read from one folder")


def test_a_flood_of_files_that_sort_first_crowds_out_later_evidence_with_the_reason(folder, monkeypatch):
    monkeypatch.setattr(read, "MAX_ENTRIES", 5)
    for i in range(5):
        (folder / f"aa_{i}.json").write_text('{"value": 1}')
    loaded = load(folder)
    assert [loaded[f"aa_{i}"] for i in range(5)] == [1] * 5
    _refused(loaded, "model_100", "model_100.keras is past the first 5 evidence files")


# --- zip archives: .npz and .keras ----------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_zip_bomb_npz_is_refused_before_it_expands(folder, honest, gigabyte_bomb):
    shutil.copyfile(gigabyte_bomb, folder / "train_data.fingerprints.npz")
    loaded = _load_light(folder)  # the 1 MB file is read; its 1 GiB never is
    _refused(loaded, "train_data", "train_data.fingerprints.npz expands to 1 GiB, over the 128 MiB limit")
    _assert_honest_unchanged(loaded, honest, except_=("train_data",))


def test_a_member_whose_header_claims_a_huge_size_is_refused(folder, honest):
    fingerprints = (folder / "train_data.fingerprints.npz").read_bytes()
    (folder / "train_data.fingerprints.npz").write_bytes(_claim_size(fingerprints, "epoch1.npy", 0xF000_0000))
    model = (folder / "model_100.keras").read_bytes()
    (folder / "model_100.keras").write_bytes(_claim_size(model, "model.weights.h5", 0xF000_0000))
    loaded = _load_light(folder)
    _refused(loaded, "train_data", "train_data.fingerprints.npz expands to 3.75 GiB, over the 128 MiB limit")
    _refused(loaded, "model_100", "model_100.keras expands to 3.75 GiB, over the 128 MiB limit")
    _assert_honest_unchanged(loaded, honest, except_=("train_data", "model_100"))


def test_a_member_that_compresses_like_a_bomb_is_refused_even_under_the_size_limit(folder, honest):
    zeros = np.zeros(8 * read.MiB // 8, np.uint64)  # 8 MiB of zeros: deflate makes them 8 KiB
    (folder / "train_data.fingerprints.npz").write_bytes(
        _zip({"epoch1.npy": _npy(zeros), "epoch2.npy": _npy(zeros)}, zipfile.ZIP_DEFLATED))
    loaded = load(folder)
    reason = _refused(loaded, "train_data", "train_data.fingerprints.npz's epoch1.npy expands ")
    assert "more than real arrays ever compress: a zip bomb" in reason
    _assert_honest_unchanged(loaded, honest, except_=("train_data",))


def test_an_array_whose_header_declares_more_than_its_member_holds_is_refused(folder, honest):
    small = np.arange(4, dtype=np.uint64)
    (folder / "train_data.fingerprints.npz").write_bytes(
        _zip({"epoch1.npy": _npy(small, shape=(10**10,)), "epoch2.npy": _npy(small)}))
    loaded = _load_light(folder)
    _refused(loaded, "train_data", "train_data.fingerprints.npz's epoch1.npy declares an array of 74.51 GiB")
    _assert_honest_unchanged(loaded, honest, except_=("train_data",))


def test_arrays_of_python_objects_are_refused_unpickled(folder, honest):
    buffer = io.BytesIO()
    np.savez(buffer, np.array([object()], dtype=object))  # pickles it
    (folder / "best_run.savedrun.npz").write_bytes(buffer.getvalue())
    loaded = load(folder)
    _refused(loaded, "best_run", "best_run.savedrun.npz's arr_0.npy holds Python objects, which are never "
             "unpickled")
    _assert_honest_unchanged(loaded, honest, except_=("best_run",))


def test_a_zip_with_too_many_members_is_refused_before_its_directory_is_parsed(folder, honest):
    members = {f"arr_{i}.npy": _npy(np.zeros(1, np.float32)) for i in range(read.MAX_ARCHIVE_MEMBERS + 1)}
    (folder / "best_run.savedrun.npz").write_bytes(_zip(members))
    loaded = load(folder)
    _refused(loaded, "best_run", "best_run.savedrun.npz holds 1,001 members, over the 1,000 limit")
    _assert_honest_unchanged(loaded, honest, except_=("best_run",))


def _shape_bomb(f) -> None:
    """40 GB declared, nothing stored: chunks that were never written read as the fill value."""
    f.create_dataset("layers/dense/vars/0", shape=(10**6, 10**4), dtype="f4", chunks=(100, 100),
                     compression="gzip")


def _external_link(f) -> None:
    import h5py

    f["layers"] = h5py.ExternalLink("/etc/hostname", "/")


def _external_storage(f) -> None:
    f.create_dataset("layers/dense/vars/0", shape=(1024,), dtype="f4", external=[("/dev/zero", 0, 4096)])


@pytest.mark.parametrize(("build", "why"), [
    (_shape_bomb, "model_100.keras's weights declare 37.25 GiB of arrays in a"),
    (_external_link, "model_100.keras's weights hold a link (layers: ExternalLink), which Keras never "
                     "writes"),
    (_external_storage, "model_100.keras's weights layers/dense/vars/0 are stored in another file"),
], ids=["shape bomb", "external link", "external storage"])
def test_keras_weights_that_declare_more_than_they_hold_or_point_elsewhere_are_refused(folder, honest,
                                                                                      build, why):
    members = _members(folder / "model_100.keras")
    (folder / "model_100.keras").write_bytes(_zip({**members, "model.weights.h5": _h5(build)}))
    loaded = _load_light(folder, peak_mib=32)
    _refused(loaded, "model_100", why)
    _assert_honest_unchanged(loaded, honest, except_=("model_100",))


def test_a_huge_keras_config_is_refused_before_keras_parses_it(folder, honest):
    members = _members(folder / "model_100.keras")
    padding = b" " * (read.MAX_JSON_BYTES + read.MiB)
    huge = {**members, "config.json": members["config.json"] + padding}
    (folder / "model_100.keras").write_bytes(_zip(huge))
    loaded = load(folder)
    _refused(loaded, "model_100", "model_100.keras's config.json is 9.004 MiB, over the 8 MiB limit")
    _assert_honest_unchanged(loaded, honest, except_=("model_100",))


def test_garbage_is_still_unreadable_rather_than_refused(folder):
    """Not an attack on the judge, just not evidence: the old message stays."""
    (folder / "model_100.keras").write_bytes(b"not a zip file")
    (folder / "train_data.fingerprints.npz").unlink()
    loaded = load(folder)
    assert loaded["model_100"].reason == "could not be read back for grading (BadZipFile)"
    assert loaded["train_data"].reason == "could not be read back for grading (FileNotFoundError)"
