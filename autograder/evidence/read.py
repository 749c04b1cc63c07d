"""Runs in the judge: load an evidence folder back into the objects the checks are given.

Models are loaded by Keras from their ``.keras`` files, everything else from plain JSON and
NumPy files; nothing the student's kernel made is unpickled or executed.

The folder was written by the student's kernel, so reading it must cost the judge's host no
more than honest evidence does, whatever the kernel left there:

* every file is opened as a regular file only (``O_NOFOLLOW | O_NONBLOCK``, then ``fstat``:
  a symbolic link, named pipe, socket, device or folder is refused unread), its size is
  checked on that descriptor before anything is read, and it is read from that descriptor,
  so a file swapped after the check cannot change what is read;
* one file may hold at most :data:`MAX_FILE_BYTES` (a JSON file :data:`MAX_JSON_BYTES`), the
  whole folder :data:`MAX_TOTAL_BYTES` (its JSON :data:`MAX_TOTAL_JSON_BYTES`), and at most
  :data:`MAX_ENTRIES` files are read from it (in name order);
* a zip archive (``.npz``, ``.keras``) is checked before NumPy or Keras sees it: its zip
  directory, the number of its members, each member's declared uncompressed size and their
  sum, their compression ratio, the array size each ``.npy`` header declares, and in a
  ``.keras`` file the HDF5 weights (no links, no external or virtual data, no more array
  bytes declared than the file holds);
* arrays are loaded with ``allow_pickle=False`` from the bytes already read; Keras loads,
  with ``safe_mode=True``, a private copy of the verified bytes, never the kernel's path.

Whatever is refused becomes :class:`MissingEvidence` saying why ("`history_1` was refused for
grading: history_1.model.keras is not a regular file (a symbolic link)"); the rest of the
folder is still read.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from autograder.evidence.records import (
    NAME,
    DatasetEvidence,
    FunctionCalls,
    FunctionEvidence,
    HistoryEvidence,
    Kind,
    MissingEvidence,
    SavedRun,
    evidence_file,
)

TRAINED_MODEL_SUFFIX = ".model"  # ``history_100.model``: the model a history's fit trained

MiB = 1 << 20
# What honest evidence needs, measured (TensorFlow 2.21, Keras 3): a .keras file of exercise
# 10's solution (512x2, Adam state) is 8.1 MB, of a 2048x2 network 69.9 MB (66.7 MiB), of the
# lesson's model 0.5 MB; a saved run's .npz of 2048x2 weights 21.5 MB (23.3 MB uncompressed);
# fingerprints of 2 x 54,000 images 0.86 MB; a function's 60,000 results 0.8-1.6 MB of JSON.
# The second assignment with a 2048x2 exercise 10 leaves about 175 MB in all.
MAX_FILE_BYTES = 128 * MiB        # one file, and the sum of one archive's uncompressed members
MAX_JSON_BYTES = 8 * MiB          # one JSON file (parsed into Python objects: about 10x in memory)
MAX_TOTAL_BYTES = 512 * MiB       # all files read from one folder (archives: their expanded size)
MAX_TOTAL_JSON_BYTES = 32 * MiB   # all JSON read from one folder
MAX_ENTRIES = 2_000               # files opened from one folder, in name order (honest: under 100)
MAX_LISTED = 50_000               # folder entries looked at; the rest are not seen at all
MAX_ARCHIVE_MEMBERS = 1_000       # members of one .npz or .keras (honest: 3 to a few dozen)
MAX_ZIP_DIRECTORY_BYTES = 1 * MiB  # one zip's central directory, checked before it is parsed
MAX_COMPRESSION_RATIO = 100       # real arrays compress 1-1.5x; deflate's most is about 1,032x
COMPRESSION_RATIO_FLOOR = 1 * MiB  # smaller members may compress better (zero biases): too small to matter
MAX_H5_OBJECTS = 10_000           # groups and arrays in a .keras file's weights (honest: dozens)

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_ZIP_END = struct.Struct("<4s4H2LH")  # the end of central directory record
_ZIP_END_SIGNATURE, _ZIP64_LOCATOR_SIGNATURE = b"PK\x05\x06", b"PK\x06\x07"
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what Keras and np.savez_compressed write
_KERAS_JSON_MEMBERS = ("config.json", "metadata.json")
_KERAS_WEIGHTS_H5, _KERAS_WEIGHTS_NPZ = "model.weights.h5", "model.weights.npz"


class Refused(Exception):
    """An evidence file that is not read, or not handed on: the message says why."""


def _size(n: int) -> str:
    """A byte count for people: "40 GiB", "66.68 MiB", "512 bytes"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n:,} bytes"


def _not_regular(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, what in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return "not a file"


class _Folder:
    """An evidence folder opened once: every file in it read by the rules above, within its budgets."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.opened = 0  # files opened so far (MAX_ENTRIES)
        self.total = 0  # bytes read or expanded so far (MAX_TOTAL_BYTES)
        self.json_total = 0  # of which JSON (MAX_TOTAL_JSON_BYTES)
        self.listed: set[str] = set()  # what names() found

    def names(self) -> list[str]:
        """The names of the first MAX_LISTED entries, sorted."""
        names = []
        with os.scandir(self.fd) as entries:
            for entry in entries:
                if len(names) >= MAX_LISTED:
                    break
                names.append(entry.name)
        self.listed = set(names)
        return sorted(names)

    def _charge(self, filename: str, nbytes: int) -> None:
        if self.total + nbytes > MAX_TOTAL_BYTES:
            raise Refused(f"{filename} ({_size(nbytes)}) would bring the evidence read from this folder "
                          f"over the {_size(MAX_TOTAL_BYTES)} limit")
        self.total += nbytes

    def read(self, filename: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """The bytes of a regular file of at most ``limit`` bytes, read from the descriptor checked."""
        self.opened += 1
        if self.opened > MAX_ENTRIES:
            raise Refused(f"{filename} is past the first {MAX_ENTRIES:,} evidence files, the most read "
                          "from one folder")
        try:
            fd = os.open(filename, _OPEN_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link
                raise Refused(f"{filename} is not a regular file (a symbolic link)") from None
            if exc.errno == errno.ENXIO:  # a socket (or a device with nothing behind it)
                raise Refused(f"{filename} is not a regular file (a socket)") from None
            raise  # missing, unreadable: could not be read back
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise Refused(f"{filename} is not a regular file ({_not_regular(info.st_mode)})")
            if info.st_size > limit:
                raise Refused(f"{filename} is {_size(info.st_size)}, over the {_size(limit)} limit for one "
                              "evidence file")
            self._charge(filename, info.st_size)
            data = os.read(fd, info.st_size) if info.st_size else b""
            while len(data) < info.st_size:  # a short read: rare for a regular file
                more = os.read(fd, info.st_size - len(data))
                if not more:
                    raise Refused(f"{filename} shrank while it was read")
                data += more
            if os.read(fd, 1):
                raise Refused(f"{filename} grew while it was read")
            return data
        finally:
            os.close(fd)

    def json(self, filename: str) -> Any:
        """A JSON file, parsed from its capped bytes."""
        data = self.read(filename, MAX_JSON_BYTES)
        if self.json_total + len(data) > MAX_TOTAL_JSON_BYTES:
            raise Refused(f"{filename} ({_size(len(data))}) would bring the JSON read from this folder over "
                          f"the {_size(MAX_TOTAL_JSON_BYTES)} limit")
        self.json_total += len(data)
        return json.loads(data)

    @contextmanager
    def npz(self, filename: str) -> Iterator[Any]:
        """A NumPy ``.npz`` file's arrays, loaded (no pickles) from its verified bytes."""
        data = self.read(filename)
        archive, expanded = _verified_zip(filename, data)
        with archive:
            _check_arrays(filename, archive)
        self._charge(filename, max(0, expanded - len(data)))
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            yield arrays

    def npy(self, filename: str) -> np.ndarray:
        """A NumPy ``.npy`` array of numbers or bools, loaded (no pickles) from its capped, checked bytes."""
        data = self.read(filename)
        header = io.BytesIO(data)
        version = np.lib.format.read_magic(header)  # not an array at all: could not be read back
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(header)
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(header)
        else:
            raise Refused(f"{filename} is an array of format {version}, which np.save does not write")
        if dtype.hasobject:
            raise Refused(f"{filename} holds Python objects, which are never unpickled")
        if dtype.kind not in "biuf":
            raise Refused(f"{filename} holds {dtype}, not numbers")
        declared = math.prod(shape) * dtype.itemsize
        if declared > len(data) - header.tell():
            raise Refused(f"{filename} declares an array of {_size(declared)} in {_size(len(data))}")
        return np.load(io.BytesIO(data), allow_pickle=False)

    def keras(self, filename: str) -> bytes:
        """A ``.keras`` file's bytes, once its archive and weights have been checked."""
        data = self.read(filename)
        archive, expanded = _verified_zip(filename, data)
        with archive:
            names = set(archive.namelist())
            for member in _KERAS_JSON_MEMBERS:
                if member in names and archive.getinfo(member).file_size > MAX_JSON_BYTES:
                    raise Refused(f"{filename}'s {member} is {_size(archive.getinfo(member).file_size)}, "
                                  f"over the {_size(MAX_JSON_BYTES)} limit")
            if _KERAS_WEIGHTS_H5 in names:
                _check_weights_h5(filename, archive.read(_KERAS_WEIGHTS_H5))
            if _KERAS_WEIGHTS_NPZ in names:
                label = f"{filename}'s {_KERAS_WEIGHTS_NPZ}"
                inner, _ = _verified_zip(label, archive.read(_KERAS_WEIGHTS_NPZ))
                with inner:
                    _check_arrays(label, inner)
        self._charge(filename, max(0, expanded - len(data)))
        return data


def _verified_zip(label: str, data: bytes) -> tuple[zipfile.ZipFile, int]:
    """The zip archive in ``data`` and the sum of its members' sizes, once both are within limits.

    The zip directory's size is read from its end record first, so a directory of millions of
    entries is refused before :mod:`zipfile` parses it.  A member never expands beyond the size
    it declares (:mod:`zipfile` stops there), so the declared sizes bound what reading costs.
    """
    end = data.rfind(_ZIP_END_SIGNATURE, max(0, len(data) - _ZIP_END.size - 0xFFFF))
    if end < 0 or len(data) - end < _ZIP_END.size:
        raise zipfile.BadZipFile("not a zip archive")  # garbage: could not be read back
    if end >= 20 and data[end - 20:end - 16] == _ZIP64_LOCATOR_SIGNATURE:
        raise Refused(f"{label} uses ZIP64 records, which no evidence file needs")
    *_, count, directory_size, _offset, _comment = _ZIP_END.unpack_from(data, end)
    if count > MAX_ARCHIVE_MEMBERS:
        raise Refused(f"{label} holds {count:,} members, over the {MAX_ARCHIVE_MEMBERS:,} limit")
    if directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise Refused(f"{label}'s zip directory is {_size(directory_size)}, over the "
                      f"{_size(MAX_ZIP_DIRECTORY_BYTES)} limit")
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        members = archive.infolist()
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise Refused(f"{label} holds {len(members):,} members, over the {MAX_ARCHIVE_MEMBERS:,} limit")
        expanded = sum(m.file_size for m in members)
        if expanded > MAX_FILE_BYTES:
            raise Refused(f"{label} expands to {_size(expanded)}, over the {_size(MAX_FILE_BYTES)} limit")
        for m in members:
            if m.compress_type not in _ZIP_METHODS:
                raise Refused(f"{label}'s {m.filename} is compressed with method {m.compress_type}; evidence "
                              "files hold stored or deflated members only")
            ratio_limit = MAX_COMPRESSION_RATIO * m.compress_size
            if m.file_size > COMPRESSION_RATIO_FLOOR and m.file_size > ratio_limit:
                raise Refused(f"{label}'s {m.filename} expands {m.file_size / max(m.compress_size, 1):,.0f} "
                              f"times (to {_size(m.file_size)}), more than real arrays ever compress: a zip "
                              "bomb")
    except BaseException:
        archive.close()
        raise
    return archive, expanded


def _check_arrays(label: str, archive: zipfile.ZipFile) -> None:
    """Every ``.npy`` array in an ``.npz`` is plain numbers whose declared size fits its member."""
    for member in archive.infolist():
        with archive.open(member) as f:
            if f.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                continue  # not an array: NumPy hands it over as its (capped) bytes
        with archive.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise Refused(f"{label}'s {member.filename} is an array of format {version}, which "
                              "np.savez does not write")
        if dtype.hasobject:
            raise Refused(f"{label}'s {member.filename} holds Python objects, which are never unpickled")
        declared = math.prod(shape) * dtype.itemsize
        if declared > member.file_size:
            raise Refused(f"{label}'s {member.filename} declares an array of {_size(declared)} in "
                          f"{_size(member.file_size)}")


def _check_weights_h5(label: str, data: bytes) -> None:
    """A ``.keras`` file's HDF5 weights: only groups and numeric arrays stored in the file itself.

    An HDF5 array may declare any shape and keep only a fill value, or point at another file
    (external storage, virtual data, external links); Keras writes none of these, and its
    arrays are stored uncompressed, so together they declare no more bytes than the file holds.
    """
    import h5py

    problems: list[str] = []
    declared = seen = 0
    with h5py.File(io.BytesIO(data), "r") as weights:
        def visit(name: str, link: Any) -> bool | None:
            nonlocal declared, seen
            seen += 1
            if seen > MAX_H5_OBJECTS:
                problems.append(f"{label}'s weights hold over {MAX_H5_OBJECTS:,} objects")
            elif not isinstance(link, h5py.HardLink):
                problems.append(f"{label}'s weights hold a link ({name}: {type(link).__name__}), which "
                                "Keras never writes")
            else:
                item = weights.get(name)
                if isinstance(item, h5py.Dataset):
                    if item.external or item.is_virtual:
                        problems.append(f"{label}'s weights {name} are stored in another file")
                    elif item.dtype.kind not in "biufc":
                        problems.append(f"{label}'s weights {name} are not numbers ({item.dtype})")
                    else:
                        declared += (0 if item.shape is None else math.prod(item.shape)) * item.dtype.itemsize
            return True if problems else None

        weights.visititems_links(visit)
    if not problems and declared > len(data):
        problems.append(f"{label}'s weights declare {_size(declared)} of arrays in a {_size(len(data))} file")
    if problems:
        raise Refused(problems[0])


def _custom_objects() -> dict[str, Any]:
    """Names Keras saves but cannot load back: ``activation=tf.nn.softmax`` is saved as ``softmax_v2``."""
    import tensorflow as tf

    return {"softmax_v2": tf.nn.softmax}


def _load_model(data: bytes, trained: bool = False) -> Any:
    """A Keras model from verified ``.keras`` bytes, loaded (``safe_mode``) from a private copy.

    A history's ``trained`` model comes with its optimizer state (the judge counts its updates)
    when Keras can compile it, else with its weights only (e.g. a custom loss Keras cannot rebuild).
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="judge-model-") as private:  # mode 0700: the judge's own
        path = Path(private) / "model.keras"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as copy:
            copy.write(data)
        del data

        def load(compile: bool) -> Any:  # Keras's own argument name
            return tf.keras.models.load_model(path, compile=compile, custom_objects=_custom_objects(),
                                              safe_mode=True)

        if not trained:
            return load(compile=True)
        try:
            return load(compile=True)
        except Exception:  # e.g. a custom loss Keras cannot rebuild: the weights still load
            return load(compile=False)


def _function_calls(folder: _Folder, name: str, record: Any, earlier: Any) -> FunctionCalls:
    """A function's recorded calls (``NAME.calls.json``, its arrays in ``NAME.calls.npz``)."""
    calls, arrays = evidence_file(name, Kind.CALLS), evidence_file(name, Kind.CALL_ARRAYS)
    results: dict[str, dict] = {}
    for key, result in dict(record["results"]).items():
        result = dict(result)
        value = result.get("value")
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise Refused(f"{calls} holds a result that is not a number, string or array")
        results[str(key)] = result
    if int(record.get("arrays", 0)):
        with folder.npz(arrays) as data:
            for result in results.values():
                if "array" in result:
                    array = np.array(data[str(result.pop("array"))])
                    if array.dtype.kind not in "biuf":
                        raise Refused(f"{arrays} holds {array.dtype}, not numbers")
                    result["value"] = array
    return FunctionCalls(name, results, earlier if isinstance(earlier, FunctionEvidence) else None)


def _fit_data(folder: _Folder, name: str) -> dict[str, np.ndarray] | None:
    """The images a history's fit trained and validated on (``NAME.fitdata.npz``), or None without them."""
    filename = evidence_file(name, Kind.FIT_DATA)
    if filename not in folder.listed:
        return None
    with folder.npz(filename) as data:
        arrays = {key: data[key] for key in ("train", "validation")}
    if any(a.dtype != np.uint64 or a.ndim != 1 for a in arrays.values()):
        raise Refused(f"{filename} does not hold image fingerprints")
    return arrays


def _read_one(folder: _Folder, namespace: dict[str, Any], filename: str, name: str, kind: str) -> None:
    """Put what ``filename`` (``name.kind``) holds into ``namespace``; raises when it cannot."""
    if kind == Kind.TRAINED_MODEL:
        namespace[name + TRAINED_MODEL_SUFFIX] = _load_model(folder.keras(filename), trained=True)
    elif kind == Kind.MODEL:
        namespace[name] = _load_model(folder.keras(filename))
    elif kind == Kind.DATASET:
        facts = folder.json(filename)
        with folder.npz(evidence_file(name, Kind.FINGERPRINTS)) as data:
            namespace[name] = DatasetEvidence(name, facts, [data["epoch1"], data["epoch2"]])
    elif kind == Kind.HISTORY:
        record = folder.json(filename)
        namespace[name] = HistoryEvidence(name, dict(record["params"]), dict(record["history"]),
                                          fit_data=_fit_data(folder, name))
    elif kind == Kind.SAVED_RUN:
        record = folder.json(filename)
        with folder.npz(evidence_file(name, Kind.SAVED_RUN_WEIGHTS)) as data:
            weights = [data[f"arr_{i}"] for i in range(len(data.files))]
        namespace[name] = SavedRun(dict(record["config"]), dict(record["history"]), weights)
    elif kind == Kind.FUNCTION:
        function = FunctionEvidence(name, folder.json(filename))
        if isinstance(namespace.get(name), FunctionCalls):  # a check declared inputs too: theirs first
            namespace[name].fallback = function
        else:
            namespace[name] = function
    elif kind == Kind.CALLS:
        namespace[name] = _function_calls(folder, name, folder.json(filename), namespace.get(name))
    elif kind == Kind.ARRAY:
        namespace[name] = folder.npy(filename)
    elif kind == Kind.VALUE:
        namespace[name] = folder.json(filename)["value"]
    elif kind == Kind.ERROR:
        error = folder.json(filename)["error"]
        namespace.setdefault(name, MissingEvidence(name, f"could not be saved for grading: {error}"))


# The files read for themselves; the others (.npz, fitdata.json) are read with them, or not at all.
_KINDS = frozenset(Kind) - {Kind.FINGERPRINTS, Kind.FIT_DATA, Kind.FIT_DATA_ERROR, Kind.SAVED_RUN_WEIGHTS,
                            Kind.CALL_ARRAYS}


def load(directory: Path) -> dict[str, Any]:
    """Notebook variable name -> the object the judge's checks get, from an evidence folder.

    A history's trained model is returned under ``NAME.model`` for the judge to verify.
    """
    namespace: dict[str, Any] = {}
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # no folder: no evidence
        return namespace
    try:
        folder = _Folder(fd)
        for filename in folder.names():
            name, _, kind = filename.partition(".")
            if not NAME.fullmatch(name) or kind not in _KINDS:
                continue
            try:
                _read_one(folder, namespace, filename, name, kind)
            except Refused as exc:
                namespace[name] = MissingEvidence(name, f"was refused for grading: {exc}")
            except Exception as exc:  # unreadable evidence counts as none
                namespace[name] = MissingEvidence(name, f"could not be read back for grading "
                                                        f"({type(exc).__name__})")
    finally:
        os.close(fd)
    return namespace


def load_saved_run(path: Path, name: str) -> SavedRun | MissingEvidence:
    """Exercise 10's run from the file handed in with the notebook (``save_run``'s format), read as above.

    ``name`` is the notebook variable it stands for; what cannot be read is MissingEvidence saying why.
    """
    try:
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return MissingEvidence(name, f"has no {path.name} handed in with the notebook")
    try:
        with _Folder(fd).npz(path.name) as data:
            arrays = sorted((k for k in data.files if k.startswith("arr_")), key=lambda k: int(k[4:]))
            return SavedRun(dict(json.loads(str(data["config"]))), dict(json.loads(str(data["history"]))),
                            [data[k] for k in arrays])
    except FileNotFoundError:
        return MissingEvidence(name, f"has no {path.name} handed in with the notebook")
    except Refused as exc:
        return MissingEvidence(name, f"was refused for grading: {exc}")
    except Exception as exc:  # not a run save_run wrote
        return MissingEvidence(name, f"could not be read from {path.name} ({type(exc).__name__}): run the "
                                     "exercise-10 cell again in JupyterLab to save it anew")
    finally:
        os.close(fd)

