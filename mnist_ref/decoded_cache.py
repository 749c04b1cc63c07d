"""MNIST's decoded images, cached on disk beside the prepared TFDS dataset and shared by processes.

``tfds.load("mnist", batch_size=-1)`` decodes 70,000 PNG images, which takes a few seconds
in every process.  The cache keeps its result, the uint8 images and int64 labels of the
train and test splits, in one file in the prepared dataset's folder
(``<TFDS data dir>/mnist/3.0.1/mnist_ref-decoded.bin``), never in the project tree:

* it is written to a temporary file and renamed into place, so a reader sees the old file,
  the new file or none, never half a file;
* it records the dataset it was decoded from (the SHA-256 of ``dataset_info.json``, the
  shard files' names and sizes, the split sizes) and a CRC-32 per array: a file that is
  truncated, altered, of the wrong shape or from other dataset files is never used;
* ``prepare-data`` builds it, and so does the first process that finds it missing; an
  unusable file is named in one warning line and rebuilt where the folder is writable; where
  it is not (a sandbox mounts the data read-only), the images are decoded instead;
* under ``tfds.testing.mock_data`` (or any stand-in for ``tfds.load``) it is not used.

File layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON),
then each array's bytes at a 64-byte aligned offset from the start of the data.  Written by
hand rather than with ``np.savez`` so that the dataset's identity and a checksum per array
sit in one header, read and verified before any array is.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import sys
import tempfile
import zlib
from contextlib import suppress
from hashlib import sha256
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mnist_ref.lesson import IMAGE_SHAPE

CACHE_NAME = "mnist_ref-decoded.bin"
MAGIC = b"mnist_ref decoded arrays v1\n"
ALIGN = 64
MAX_HEADER_BYTES = 1 << 20
LAYOUT = (("x_train", "train", np.uint8), ("y_train", "train", np.int64),
          ("x_test", "test", np.uint8), ("y_test", "test", np.int64))

log = logging.getLogger(__name__)


class Decoded(NamedTuple):
    """MNIST as ``tfds.load(..., batch_size=-1)`` returns it: uint8 images (N, 28, 28, 1), int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class CacheError(ValueError):
    """A cache file that must not be used; the message says why."""


def cache_path(dataset_dir: Path) -> Path:
    """The cache file of the prepared dataset in ``dataset_dir`` (``.../mnist/3.0.1``)."""
    return Path(dataset_dir) / CACHE_NAME


def source_key(dataset_dir: Path) -> dict | None:
    """What identifies the prepared dataset's files, or None when it is not prepared."""
    dataset_dir = Path(dataset_dir)
    try:
        info_bytes = (dataset_dir / "dataset_info.json").read_bytes()
        info = json.loads(info_bytes)
        splits = {s["name"]: sum(int(n) for n in s["shardLengths"]) for s in info["splits"]}
        shards = {p.name: p.stat().st_size for p in sorted(dataset_dir.glob(f"{info['name']}-*"))}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"dataset_info_sha256": sha256(info_bytes).hexdigest(), "shards": shards, "splits": splits}


def tfds_is_mocked() -> bool:
    """True when ``tfds.load`` or TFDS's dataset builder is patched (``tfds.testing.mock_data``)."""
    if "tensorflow_datasets" not in sys.modules:
        return False  # not imported, so not patched
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import dataset_builder as db

    own = (
        (tfds.load, "tensorflow_datasets.core.load"),
        (db.DatasetBuilder.__init__, db.__name__),
        (db.DatasetBuilder.as_dataset, db.__name__),
        (db.FileReaderBuilder._as_dataset, db.__name__),
    )
    return any(getattr(fn, "__module__", None) != module for fn, module in own)


def decode(dataset_dir: Path) -> Decoded:
    """Decode both splits with ``tfds.load(..., batch_size=-1)`` from the dataset's data dir."""
    import tensorflow_datasets as tfds

    data_dir = os.fspath(Path(dataset_dir).parents[1])
    (x_train, y_train), (x_test, y_test) = tfds.as_numpy(
        tfds.load("mnist", split=["train", "test"], as_supervised=True, batch_size=-1, data_dir=data_dir)
    )
    return Decoded(x_train, y_train, x_test, y_test)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def write_cache(path: Path, decoded: Decoded, source: dict) -> None:
    """Write ``decoded`` to ``path`` atomically (temporary file, fsync, rename); OSError if unwritable."""
    path = Path(path)
    entries, offset = [], 0
    for (name, _, dtype), array in zip(LAYOUT, decoded, strict=True):
        array = np.ascontiguousarray(array, dtype=dtype)
        entries.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape),
                        "offset": offset, "nbytes": array.nbytes, "crc32": _crc(array)})
        offset = _aligned(offset + array.nbytes)
    header = json.dumps({"source": source, "arrays": entries}, sort_keys=True).encode()
    data_start = _aligned(len(MAGIC) + 8 + len(header))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for entry, array in zip(entries, decoded, strict=True):
                f.seek(data_start + entry["offset"])
                f.write(memoryview(np.ascontiguousarray(array, dtype=entry["dtype"])).cast("B"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the dataset's other files are readable
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def read_cache(path: Path, source: dict) -> Decoded:
    """The arrays in ``path``, verified against ``source`` and their CRC-32s.

    Raises FileNotFoundError when there is no file and CacheError (or another OSError) when
    it must not be used.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(len(MAGIC) + 8)
        if prefix[: len(MAGIC)] != MAGIC or len(prefix) < len(MAGIC) + 8:
            raise CacheError("not a mnist_ref cache file (bad magic bytes)")
        header_size = int.from_bytes(prefix[len(MAGIC):], "little")
        if header_size > MAX_HEADER_BYTES:
            raise CacheError(f"implausible header size {header_size}")
        try:
            header = json.loads(f.read(header_size))
            entries, recorded = header["arrays"], header["source"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CacheError(f"unreadable header ({exc})") from exc
        if recorded != source:
            raise CacheError("it was decoded from other dataset files")
        data_start = _aligned(len(MAGIC) + 8 + header_size)
        expected_end = _check_layout(entries, source["splits"]) + data_start
        if size != expected_end:
            raise CacheError(f"{size:,} bytes, expected {expected_end:,} (truncated or padded)")
        f.seek(data_start)
        data = np.fromfile(f, dtype=np.uint8, count=expected_end - data_start)
    arrays = []
    for entry in entries:
        raw = data[entry["offset"] : entry["offset"] + entry["nbytes"]]
        if zlib.crc32(raw) != entry["crc32"]:
            raise CacheError(f"checksum mismatch in {entry['name']} (altered bytes)")
        arrays.append(raw.view(np.dtype(entry["dtype"])).reshape(entry["shape"]))
    return Decoded(*arrays)


def _check_layout(entries: list, splits: dict) -> int:
    """Raise CacheError unless the arrays are the expected names, dtypes and shapes; their end."""
    if not isinstance(entries, list) or len(entries) != len(LAYOUT):
        raise CacheError("wrong number of arrays")
    offset = 0
    for entry, (name, split, dtype) in zip(entries, LAYOUT, strict=True):
        n = splits.get(split)
        if not isinstance(n, int):
            raise CacheError(f"the dataset has no {split} split")
        shape = [n, *IMAGE_SHAPE] if name.startswith("x") else [n]
        if (entry.get("name"), entry.get("dtype"), entry.get("shape")) != (name, np.dtype(dtype).str, shape):
            raise CacheError(f"wrong name, dtype or shape for {name} (expected {shape})")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if entry.get("offset") != offset or entry.get("nbytes") != nbytes:
            raise CacheError(f"wrong offset or size for {name}")
        if not isinstance(entry.get("crc32"), int):
            raise CacheError(f"no checksum for {name}")
        end = offset + entry["nbytes"]
        offset = _aligned(end)
    return end


def load(dataset_dir: Path) -> Decoded:
    """Both splits decoded, from the cache when it is valid; otherwise decoded and cached if possible."""
    if tfds_is_mocked():
        return decode(dataset_dir)
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
    """Both splits from a valid cache file, or None (no cache, an unusable one, or TFDS mocked).

    For callers that have a slower way of their own and must never decode twice.
    """
    source = None if tfds_is_mocked() else source_key(dataset_dir)
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
