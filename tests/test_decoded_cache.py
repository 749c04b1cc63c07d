"""The decoded-MNIST cache: bit-identical to a fresh decode, never used when damaged or not prepared.

Fast tests use a folder laid out like a prepared dataset with tiny synthetic arrays (and a
stand-in for the decoder); tests marked ``mnist`` use the real prepared dataset.
"""

from __future__ import annotations

import errno
import inspect
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_ref import decoded_cache
from mnist_ref.decoded_cache import CacheError, Decoded, cache_path, read_cache, source_key, write_cache
from tests.helpers import N_TRAIN, ROOT, TFRECORDS, fake_dataset, run_module, synthetic


def same(a: Decoded, b: Decoded) -> bool:
    """Bit for bit: dtypes, shapes and bytes of all four arrays."""
    return all(x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
               for x, y in zip(a, b, strict=True))


def leftovers(folder: Path) -> list[str]:
    """Temporary folders a writer left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{decoded_cache.CACHE_NAME}"))


def contents(folder: Path) -> dict[str, bytes]:
    """Every file of a cache folder, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A fake prepared dataset whose 'decoding' returns synthetic arrays and counts the calls."""
    folder = fake_dataset(tmp_path / "tfds")
    arrays = synthetic()
    decodes: list[Path] = []

    def decode(dataset_dir: Path) -> Decoded:
        decodes.append(dataset_dir)
        return arrays

    monkeypatch.setattr(decoded_cache, "decode", decode)
    return SimpleNamespace(dir=folder, path=cache_path(folder), arrays=arrays, decodes=decodes)


@pytest.fixture
def read_only(fake: SimpleNamespace, monkeypatch: pytest.MonkeyPatch):
    """The fake dataset's folder made unwritable (chmod, and for root: creating folders there fails)."""
    fake.dir.chmod(0o555)
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == fake.dir:
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    yield fake
    fake.dir.chmod(0o755)


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == decoded_cache.__name__ and r.levelno >= logging.WARNING]


# ---------------------------------------------------------------- format

def test_round_trip_is_bit_identical(tmp_path: Path):
    folder = fake_dataset(tmp_path)
    arrays = synthetic()
    write_cache(cache_path(folder), arrays, source_key(folder))
    assert same(read_cache(cache_path(folder), source_key(folder)), arrays)
    assert leftovers(folder) == []


def test_load_decodes_once_then_every_later_load_reads_the_cache(fake):
    assert same(decoded_cache.load(fake.dir), fake.arrays)
    assert fake.decodes == [fake.dir] and fake.path.is_dir()
    for _ in range(2):
        assert same(decoded_cache.load(fake.dir), fake.arrays)
    assert len(fake.decodes) == 1


# ---------------------------------------------------------------- damage

def _rewrite(path: Path, change) -> None:
    path.write_bytes(change(path.read_bytes()))


def _flip(cache: Path, where: str) -> None:
    """Flip one bit of the image data, of the labels (last array's last byte) or of the key."""
    path = cache / {"image": "x_train.npy", "label": "y_test.npy", "key": decoded_cache.KEY_NAME}[where]
    data = bytearray(path.read_bytes())
    if where == "image":
        index = len(data) // 2
    elif where == "label":
        index = len(data) - 1
    else:  # a digit of the recorded train split size
        index = data.index(b'"train": ') + len(b'"train": ')
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGE = {
    "empty image file": lambda p: _rewrite(p / "x_train.npy", lambda b: b""),
    "cut in the array header": lambda p: _rewrite(p / "x_train.npy", lambda b: b[:40]),
    "cut in the data": lambda p: _rewrite(p / "x_train.npy", lambda b: b[: int(len(b) * 0.7)]),
    "one byte short": lambda p: _rewrite(p / "y_test.npy", lambda b: b[:-1]),
    "bytes appended": lambda p: _rewrite(p / "x_test.npy", lambda b: b + b"\0" * 64),
    "altered image byte": lambda p: _flip(p, "image"),
    "altered label byte": lambda p: _flip(p, "label"),
    "altered key": lambda p: _flip(p, "key"),
    "key not JSON": lambda p: _rewrite(p / decoded_cache.KEY_NAME, lambda b: b"{not json"),
    "not an array file": lambda p: _rewrite(p / "x_train.npy", lambda b: b"PK\x03\x04 a zip file"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_detected(fake, damage: str):
    write_cache(fake.path, fake.arrays, source_key(fake.dir))
    DAMAGE[damage](fake.path)
    with pytest.raises(CacheError):
        read_cache(fake.path, source_key(fake.dir))


def test_an_altered_image_byte_fails_the_checksum(fake):
    """Same size, valid header: only the checksum can tell."""
    write_cache(fake.path, fake.arrays, source_key(fake.dir))
    _flip(fake.path, "image")
    with pytest.raises(CacheError, match="checksum mismatch in x_train"):
        read_cache(fake.path, source_key(fake.dir))


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_not_used_but_rebuilt_with_one_warning(fake, damage: str, caplog):
    write_cache(fake.path, synthetic(seed=1), source_key(fake.dir))  # what a damaged file might hold
    DAMAGE[damage](fake.path)
    with caplog.at_level(logging.WARNING):
        assert same(decoded_cache.load(fake.dir), fake.arrays)
    assert len(fake.decodes) == 1
    assert same(read_cache(fake.path, source_key(fake.dir)), fake.arrays)  # rebuilt, valid
    (warning,) = cache_warnings(caplog)
    assert str(fake.path) in warning and "rebuilt it" in warning
    assert leftovers(fake.dir) == []


def test_a_cache_of_other_dataset_files_or_shapes_is_not_used(fake, caplog):
    """The cache records the dataset it came from; different shards or split sizes invalidate it."""
    decoded_cache.load(fake.dir)
    (fake.dir / TFRECORDS[0]).write_bytes(b"re-generated shard of another size")
    with pytest.raises(CacheError, match="other dataset files"):
        read_cache(fake.path, source_key(fake.dir))
    with caplog.at_level(logging.WARNING):
        decoded_cache.load(fake.dir)
    assert len(fake.decodes) == 2 and len(cache_warnings(caplog)) == 1
    # Arrays whose shapes disagree with the recorded split sizes are refused too.
    write_cache(fake.path, synthetic(n_train=N_TRAIN - 1), source_key(fake.dir))
    with pytest.raises(CacheError, match="shape"):
        read_cache(fake.path, source_key(fake.dir))


# ---------------------------------------------------------------- read-only folders

def test_an_unwritable_folder_falls_back_to_decoding_silently(read_only, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert same(decoded_cache.load(read_only.dir), read_only.arrays)
    assert len(read_only.decodes) == 2  # decoded every time, as before the cache
    assert not read_only.path.exists() and leftovers(read_only.dir) == []
    assert cache_warnings(caplog) == []


def test_a_damaged_cache_in_an_unwritable_folder_is_not_used_and_named_once(fake, caplog, monkeypatch):
    write_cache(fake.path, synthetic(seed=1), source_key(fake.dir))
    _flip(fake.path, "image")
    damaged = contents(fake.path)
    monkeypatch.setattr(decoded_cache, "write_cache", _refuse)
    with caplog.at_level(logging.WARNING):
        assert same(decoded_cache.load(fake.dir), fake.arrays)
    (warning,) = cache_warnings(caplog)
    assert str(fake.path) in warning and "checksum mismatch" in warning
    assert "Fix: delete it, or run `python -m mnist_ref prepare-data`" in warning
    assert contents(fake.path) == damaged


def _refuse(path, *_args) -> None:
    raise PermissionError(errno.EROFS, "Read-only file system", str(path))


def test_prepare_data_reports_an_unwritable_cache_instead_of_failing(read_only):
    from mnist_ref.offline_data import prepare

    message = prepare(None, read_only.dir.parents[1])
    assert "already prepared" in message and "could not write the decoded-array cache" in message


# ---------------------------------------------------------------- concurrency

def test_concurrent_writers_never_leave_a_broken_cache(fake):
    """Threads rewrite the cache (the same arrays, as every writer of one dataset does) while another
    keeps reading it: every read finds whole arrays or none."""
    source = source_key(fake.dir)
    done = threading.Event()
    reads: list[bool] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(15):
                write_cache(fake.path, fake.arrays, source)
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        while not done.is_set():
            try:
                reads.append(same(read_cache(fake.path, source), fake.arrays))
            except FileNotFoundError:
                continue
            except BaseException as exc:
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write) for _ in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    assert reads and all(reads), "the reader never saw a cache, or saw other arrays"
    assert same(read_cache(fake.path, source), fake.arrays)
    assert leftovers(fake.dir) == []


WRITER = f"""
import sys
from pathlib import Path
import numpy as np
from mnist_ref.decoded_cache import Decoded, cache_path, source_key, write_cache
folder = Path(sys.argv[1])
{inspect.getsource(synthetic)}
for _ in range(20):
    write_cache(cache_path(folder), synthetic(), source_key(folder))
"""


def test_concurrent_processes_never_leave_a_broken_cache(fake):
    """Two processes build the same cache at once; every read in between finds whole arrays or none."""
    source = source_key(fake.dir)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(fake.dir)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reads = 0
    while any(p.poll() is None for p in procs):
        try:
            got = read_cache(fake.path, source)
        except FileNotFoundError:
            continue
        assert same(got, fake.arrays)
        reads += 1
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    assert same(read_cache(fake.path, source), fake.arrays)
    assert leftovers(fake.dir) == []
    print(f"{reads} whole caches read while two processes wrote")


# ---------------------------------------------------------------- TFDS's mock data

def test_a_folder_without_shard_files_is_never_cached_so_mock_data_comes_from_tfds(mock_mnist: int):
    """tfds.testing.mock_data reads a folder with no shard files (conftest's mock_mnist): not a prepared
    dataset, so the cache is neither read nor written and the data is the mock's."""
    from mnist_ref.data import load_arrays
    from mnist_ref.offline_data import prepared_dataset_dir

    assert source_key(prepared_dataset_dir()) is None
    load_arrays.cache_clear()
    try:
        arrays = load_arrays()
    finally:
        load_arrays.cache_clear()
    assert arrays.x_test.shape == (mock_mnist, 28, 28, 1)
    assert not cache_path(prepared_dataset_dir()).exists()
    assert decoded_cache.load_if_cached(prepared_dataset_dir()) is None


# ---------------------------------------------------------------- the real dataset

@pytest.mark.mnist
def test_the_cache_is_bit_identical_to_a_fresh_decode(prepared_mnist: Path):
    """The cached arrays, and the scaled splits made from them, equal a fresh tfds.load decode."""
    import tensorflow as tf

    from mnist_ref.data import SPLIT_SEED, load_arrays, num_validation_examples, scale

    decoded_cache.ensure(prepared_mnist)
    fresh = decoded_cache.decode(prepared_mnist)
    assert same(read_cache(cache_path(prepared_mnist), source_key(prepared_mnist)), fresh)
    assert fresh.x_train.shape == (60_000, 28, 28, 1) and fresh.x_test.shape == (10_000, 28, 28, 1)

    # The splits as load_arrays made them before the cache, from the fresh decode.
    x_full, y_full = scale(tf.constant(fresh.x_train), tf.constant(fresh.y_train))
    order = np.random.default_rng(SPLIT_SEED).permutation(60_000)
    validation, train = order[: num_validation_examples(60_000)], order[num_validation_examples(60_000):]
    expected = {"x_train": tf.gather(x_full, train), "y_train": tf.gather(y_full, train),
                "x_validation": tf.gather(x_full, validation), "y_validation": tf.gather(y_full, validation),
                "x_test": scale(tf.constant(fresh.x_test), None)[0], "y_test": fresh.y_test}
    load_arrays.cache_clear()
    arrays = load_arrays()
    for name, want in expected.items():
        got = getattr(arrays, name).numpy()
        want = np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(), name


def _copy_prepared(prepared: Path, data_dir: Path) -> Path:
    """The prepared dataset's TFDS files (not its cache) copied into another data dir."""
    folder = data_dir / "mnist" / "3.0.1"
    folder.mkdir(parents=True)
    for f in prepared.iterdir():
        if f.name != decoded_cache.CACHE_NAME and not f.name.startswith("."):
            shutil.copy2(f, folder / f.name)
    return folder


@pytest.mark.mnist
def test_prepare_data_builds_verifies_and_repairs_the_cache(prepared_mnist: Path, tmp_path: Path):
    from mnist_ref.offline_data import prepare

    data_dir = tmp_path / "tfds"
    folder = _copy_prepared(prepared_mnist, data_dir)
    assert "decoded arrays cached in" in prepare(None, data_dir)
    decoded_cache.ensure(prepared_mnist)
    # Same dataset files, same arrays: byte for byte the same cache as the shared one.
    assert contents(cache_path(folder)) == contents(cache_path(prepared_mnist))
    assert "nothing to do" in prepare(None, data_dir)
    _flip(cache_path(folder), "image")
    assert "decoded arrays cached in" in prepare(None, data_dir)
    assert contents(cache_path(folder)) == contents(cache_path(prepared_mnist))
    assert leftovers(folder) == []


@pytest.mark.mnist
def test_a_new_process_reads_the_cache_without_decoding(prepared_mnist: Path):
    """With the cache in place, training's data comes without importing TFDS (so without decoding)."""
    decoded_cache.ensure(prepared_mnist)
    code = (
        "import sys, time\nfrom mnist_ref.data import load_arrays\n"
        "start = time.perf_counter()\narrays = load_arrays()\n"
        "print(f'{time.perf_counter() - start:.2f} s', arrays.num_train,"
        " 'tensorflow_datasets' in sys.modules)\n"
    )
    proc = run_module("tests.run_code", code, env={"TFDS_DATA_DIR": str(prepared_mnist.parents[1])})
    assert proc.returncode == 0, proc.stderr[-2000:]
    seconds, _, num_train, tfds_imported = proc.stdout.split()[-4:]
    print(f"load_arrays from the cache in a fresh process: {seconds} s")
    assert (num_train, tfds_imported) == ("54000", "False")
