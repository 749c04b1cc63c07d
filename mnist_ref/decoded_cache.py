"""MNIST's decoded images, cached on disk beside the prepared TFDS dataset and shared by processes.

``tfds.load("mnist", batch_size=-1)`` decodes 70,000 PNG images, which takes a few seconds
in every process.  The cache keeps its result, the uint8 images and int64 labels of the
train and test splits, in a folder in the prepared dataset's folder
(``<TFDS data dir>/mnist/3.0.1/mnist_ref-decoded/``), never in the project tree: one ``.npy``
file per array (``np.save``, read back with ``np.load(mmap_mode="r")``: read-only, shared by
processes through the page cache) and ``key.json`` beside them:

* it is used only for a prepared dataset, that is ``dataset_info.json`` and its shard files; a
  folder without shard files, such as the one ``tfds.testing.mock_data`` reads (tests/conftest.py's
  ``mock_mnist`` points ``TFDS_DATA_DIR`` at it), is never cached, so mocked data comes from ``tfds.load``;
* the key records the dataset the arrays were decoded from (the SHA-256 of ``dataset_info.json``,
  the shard files' names and sizes, the split sizes) and a CRC-32 per array: arrays that are
  truncated, altered, of the wrong shape or from other dataset files are never used;
* it is written in a temporary folder and renamed into place, so a reader finds whole arrays or
  none; every writer of one dataset writes the same bytes, and a mix of two different writes
  fails the checksums;
* ``prepare-data`` builds it, and so does the first process that finds it missing; an
  unusable cache is named in one warning line and rebuilt where the folder is writable; where
  it is not (a sandbox mounts the data read-only), the images are decoded instead.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
import zlib
from contextlib import suppress
from hashlib import sha256
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mnist_ref.lesson import IMAGE_SHAPE

CACHE_NAME = "mnist_ref-decoded"
KEY_NAME = "key.json"
ARRAYS = (("x_train", "train", np.uint8), ("y_train", "train", np.int64),
          ("x_test", "test", np.uint8), ("y_test", "test", np.int64))

log = logging.getLogger(__name__)


class Decoded(NamedTuple):
    """MNIST as ``tfds.load(..., batch_size=-1)`` returns it: uint8 images (N, 28, 28, 1), int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class CacheError(ValueError):
    """A cache that must not be used; the message says why."""


def cache_path(dataset_dir: Path) -> Path:
    """The cache folder of the prepared dataset in ``dataset_dir`` (``.../mnist/3.0.1``)."""
    return Path(dataset_dir) / CACHE_NAME


def source_key(dataset_dir: Path) -> dict | None:
    """What identifies the prepared dataset's files, or None when it is not prepared (no shard files)."""
    dataset_dir = Path(dataset_dir)
    try:
        info_bytes = (dataset_dir / "dataset_info.json").read_bytes()
        info = json.loads(info_bytes)
        splits = {s["name"]: sum(int(n) for n in s["shardLengths"]) for s in info["splits"]}
        shards = {p.name: p.stat().st_size for p in sorted(dataset_dir.glob(f"{info['name']}-*"))}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not shards:
        return None
    return {"dataset_info_sha256": sha256(info_bytes).hexdigest(), "shards": shards, "splits": splits}


def decode(dataset_dir: Path) -> Decoded:
    """Decode both splits with ``tfds.load(..., batch_size=-1)`` from the dataset's data dir."""
    import tensorflow_datasets as tfds

    data_dir = os.fspath(Path(dataset_dir).parents[1])
    (x_train, y_train), (x_test, y_test) = tfds.as_numpy(
        tfds.load("mnist", split=["train", "test"], as_supervised=True, batch_size=-1, data_dir=data_dir)
    )
    return Decoded(x_train, y_train, x_test, y_test)


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def _write_synced(path: Path, write) -> None:
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    path.chmod(0o644)  # the dataset's other files are readable by all


def write_cache(path: Path, decoded: Decoded, source: dict) -> None:
    """Write ``decoded`` to the cache folder ``path`` atomically (temporary folder, fsync, rename).

    OSError when the folder is not writable; when another writer's cache went in first, it is kept.
    """
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = tmp.with_suffix(".old")
    try:
        crcs = {}
        for (name, _, dtype), array in zip(ARRAYS, decoded, strict=True):
            array = np.ascontiguousarray(array, dtype=dtype)
            _write_synced(tmp / f"{name}.npy", lambda f, a=array: np.save(f, a, allow_pickle=False))
            crcs[name] = _crc(array)
        key = json.dumps({"source": source, "crc32": crcs}, sort_keys=True).encode()
        _write_synced(tmp / KEY_NAME, lambda f: f.write(key))
        tmp.chmod(0o755)  # mkdtemp makes it private
        with suppress(FileNotFoundError):
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _read_array(file: Path, dtype: type, shape: list[int], crc: object) -> np.ndarray:
    """One cached array, memory-mapped read-only; CacheError unless it is whole and as recorded."""
    try:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # whatever np.load says of a damaged file: not an array to use
        raise CacheError(f"{file.name} is unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(array, np.memmap) or array.dtype != dtype or list(array.shape) != shape:
        raise CacheError(f"wrong dtype or shape for {file.stem} (expected {shape})")
    if array.offset + array.nbytes != file.stat().st_size:
        raise CacheError(f"{file.name} has bytes after its array (padded)")
    if _crc(array) != crc:
        raise CacheError(f"checksum mismatch in {file.stem} (altered bytes)")
    return array


def read_cache(path: Path, source: dict) -> Decoded:
    """The arrays in the cache folder ``path``, verified against ``source`` and their CRC-32s.

    Raises FileNotFoundError when there is no cache and CacheError (or another OSError) when
    it must not be used.
    """
    path = Path(path)
    try:
        key = json.loads((path / KEY_NAME).read_bytes())
        recorded, crcs = key["source"], key["crc32"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CacheError(f"unreadable {KEY_NAME} ({exc})") from exc
    if recorded != source:
        raise CacheError("it was decoded from other dataset files")
    arrays = []
    for name, split, dtype in ARRAYS:
        n = source["splits"].get(split)
        shape = [n, *IMAGE_SHAPE] if name.startswith("x") else [n]
        arrays.append(_read_array(path / f"{name}.npy", dtype, shape, crcs.get(name)))
    return Decoded(*arrays)


def load(dataset_dir: Path) -> Decoded:
    """Both splits decoded, from the cache when it is valid; otherwise decoded and cached if possible."""
    path = cache_path(dataset_dir)
    source = source_key(dataset_dir)
    problem = None
    if source is not None:
        try:
            return read_cache(path, source)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            problem = str(exc)
    decoded = decode(dataset_dir)
    source = source_key(dataset_dir)  # tfds.load may have prepared the dataset just now
    if source is None:
        return decoded
    try:
        write_cache(path, decoded, source)
    except OSError as exc:
        if problem:
            log.warning(
                "decoded-MNIST cache %s is unusable (%s) and its folder is not writable "
                "(%s); decoded the images instead. Fix: delete it, or run `python -m mnist_ref "
                "prepare-data` with write access to %s.", path, problem, exc.strerror or exc, path.parent)
        else:
            log.debug("cannot write the decoded-MNIST cache %s (%s)", path, exc)
        return decoded
    if problem:
        log.warning("decoded-MNIST cache %s was unusable (%s); rebuilt it.", path, problem)
    return decoded


def load_if_cached(dataset_dir: Path) -> Decoded | None:
    """Both splits from a valid cache, or None (no prepared dataset, no cache or an unusable one).

    For callers that have a slower way of their own and must never decode twice.
    """
    source = source_key(dataset_dir)
    if source is None:
        return None
    try:
        return read_cache(cache_path(dataset_dir), source)
    except (OSError, ValueError):
        return None


def ensure(dataset_dir: Path) -> bool:
    """Verify the prepared dataset's cache and (re)build it if needed; True when it was written.

    Needs no TensorFlow when the cache is valid.  Raises OSError when it cannot be written.
    """
    source = source_key(dataset_dir)
    if source is None:
        raise FileNotFoundError(f"no prepared dataset in {dataset_dir}")
    path = cache_path(dataset_dir)
    try:
        read_cache(path, source)
        return False
    except (OSError, ValueError):
        pass
    if not os.access(dataset_dir, os.W_OK):  # e.g. a read-only mount: say so before decoding
        raise PermissionError(errno.EACCES, "folder not writable", os.fspath(dataset_dir))
    write_cache(path, decode(dataset_dir), source)
    return True
