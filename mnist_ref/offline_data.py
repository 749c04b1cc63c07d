"""Prepare TFDS's own ``mnist`` dataset (3.0.1) from the four original IDX files, offline.

The folder is checked first (presence, gzip integrity, SHA-256 of the decompressed bytes),
then TFDS's MNIST builder generates the dataset from the verified files instead of
downloading them.  TFDS writes into a temporary directory and renames it on success, so a
failure never leaves a half-written dataset behind.  Last, the decoded images are cached beside
the dataset (:mod:`mnist_ref.decoded_cache`), so training processes, even with the data folder
mounted read-only, skip decoding the PNG files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
from pathlib import Path

from mnist_ref.lesson import NUM_PIXELS, NUM_TEST, NUM_TRAIN_FULL

DATASET_NAME = "mnist"
DATASET_VERSION = "3.0.1"
ENV_IDX_DIR = "MNIST_IDX_DIR"

# SHA-256 of the *decompressed* IDX files, as published with the MNIST distribution.
# The .gz bytes may legitimately differ (a file can be recompressed), the content may not.
EXPECTED_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
EXPECTED_SIZE: dict[str, int] = {  # header (16 or 8 bytes), then one byte per pixel or label
    "train-images-idx3-ubyte": 16 + NUM_TRAIN_FULL * NUM_PIXELS,
    "train-labels-idx1-ubyte": 8 + NUM_TRAIN_FULL,
    "t10k-images-idx3-ubyte": 16 + NUM_TEST * NUM_PIXELS,
    "t10k-labels-idx1-ubyte": 8 + NUM_TEST,
}


class DataPreparationError(RuntimeError):
    """A problem with the IDX folder, with a message that says what and how to fix it."""


def tfds_data_dir() -> Path:
    """The TFDS data directory, as TFDS itself resolves it (``TFDS_DATA_DIR`` or the default)."""
    return Path(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")).expanduser()


def prepared_dataset_dir(data_dir: Path | None = None) -> Path:
    """Where TFDS keeps the prepared ``mnist/3.0.1`` dataset."""
    return (data_dir or tfds_data_dir()) / DATASET_NAME / DATASET_VERSION


def is_prepared(data_dir: Path | None = None) -> bool:
    """True when a complete dataset is in place (TFDS writes dataset_info.json last)."""
    return (prepared_dataset_dir(data_dir) / "dataset_info.json").is_file()


def require_prepared(data_dir: Path | None = None) -> Path:
    """The prepared dataset's folder, or DataPreparationError at once saying how to prepare it.

    For grading, which must never try to download (a sandbox has no network: TFDS would retry
    until a timeout).
    """
    if not is_prepared(data_dir):
        raise DataPreparationError(
            f"MNIST is not prepared in {prepared_dataset_dir(data_dir)} (TFDS_DATA_DIR) for this user. "
            "Fix: run `MNIST_IDX_DIR=DIR python -m mnist_ref prepare-data` as the grading user (or point "
            "TFDS_DATA_DIR where it was prepared); grading never downloads it")
    return prepared_dataset_dir(data_dir)


def _fix_hint(idx_dir: Path) -> str:
    return (
        f"Fix: put the four original MNIST files (*-ubyte.gz) into {idx_dir}, e.g. copy them "
        "from ../shared/mnist, or unset MNIST_IDX_DIR and omit --from to let TFDS download."
    )


def verify_and_decompress(idx_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Decompress each ``NAME.gz`` from ``idx_dir`` into ``out_dir`` and check its SHA-256.

    Returns a map from IDX file name to decompressed path; raises DataPreparationError naming
    the first bad file, what was expected and how to fix it.
    """
    if not idx_dir.is_dir():
        raise DataPreparationError(
            f"MNIST folder {idx_dir} does not exist or is not a directory. {_fix_hint(idx_dir)}"
        )
    missing = [f"{name}.gz" for name in EXPECTED_SHA256 if not (idx_dir / f"{name}.gz").is_file()]
    if missing:
        raise DataPreparationError(
            f"Missing MNIST file(s) in {idx_dir}: {', '.join(missing)}. {_fix_hint(idx_dir)}"
        )
    paths: dict[str, Path] = {}
    for name, expected in EXPECTED_SHA256.items():
        src = idx_dir / f"{name}.gz"
        dst = out_dir / name
        digest = hashlib.sha256()
        size = 0
        try:
            with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
                while chunk := fin.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    fout.write(chunk)
        except (EOFError, OSError, zlib.error) as exc:
            raise DataPreparationError(
                f"{src} is not a complete gzip file ({type(exc).__name__}: {exc}); it is "
                f"truncated or corrupt. Expected a gzip of {EXPECTED_SIZE[name]:,} bytes of IDX "
                f"data. Fix: replace {src.name} with an intact copy (e.g. from ../shared/mnist)."
            ) from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise DataPreparationError(
                f"Checksum mismatch for {src}: the decompressed content ({size:,} bytes) has "
                f"SHA-256 {actual}, expected {expected} ({EXPECTED_SIZE[name]:,} bytes). The "
                f"file is corrupt or not the original MNIST {name}. Fix: replace {src.name} "
                "with an intact copy (e.g. from ../shared/mnist)."
            )
        paths[name] = dst
    return paths


class _LocalFiles:
    """Stands in for TFDS's DownloadManager: 'downloads' resolve to verified local files."""

    def __init__(self, files: dict[str, Path]):
        self._files = files
        self.downloaded_size = 0

    def download_and_extract(self, urls: dict[str, str]) -> dict[str, str]:
        result = {}
        for key, url in urls.items():
            name = url.rsplit("/", 1)[-1].removesuffix(".gz")
            result[key] = os.fspath(self._files[name])
        return result


def _build_from_files(files: dict[str, Path], data_dir: Path) -> None:
    """Run TFDS's own MNIST builder with its downloads replaced by ``files``."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.image_classification import mnist as tfds_mnist

    class _OfflineMNIST(tfds_mnist.MNIST, skip_registration=True):
        """TFDS's MNIST (same name, version, features, splits), fed from local files."""

        name = DATASET_NAME

        def _split_generators(self, dl_manager):  # replaced on purpose
            return super()._split_generators(_LocalFiles(files))

    # Record TFDS's own module, so dataset_info.json reads exactly like a downloaded one.
    _OfflineMNIST.__module__ = tfds_mnist.__name__
    builder = _OfflineMNIST(data_dir=os.fspath(data_dir))
    if str(builder.version) != DATASET_VERSION:
        raise DataPreparationError(
            f"This TFDS builds mnist {builder.version}, expected {DATASET_VERSION}. "
            "Fix: install the tensorflow-datasets version pinned in pyproject.toml."
        )
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )


def prepare(idx_dir: Path | None, data_dir: Path | None = None) -> str:
    """Make ``tfds.load('mnist')`` work; returns a one-line description of what happened.

    ``idx_dir`` falls back to ``$MNIST_IDX_DIR``; with neither, TFDS downloads as usual.
    """
    data_dir = data_dir or tfds_data_dir()
    target = prepared_dataset_dir(data_dir)
    if is_prepared(data_dir):
        cached = _cache_decoded(target)
        return f"mnist {DATASET_VERSION} already prepared in {target}; {cached or 'nothing to do.'}"
    if idx_dir is None and os.environ.get(ENV_IDX_DIR):
        idx_dir = Path(os.environ[ENV_IDX_DIR])
    if idx_dir is None:
        import tensorflow_datasets as tfds

        tfds.builder(DATASET_NAME, data_dir=os.fspath(data_dir)).download_and_prepare()
        cached = _cache_decoded(target) or "its decoded-array cache was valid."
        return f"mnist {DATASET_VERSION} downloaded by TFDS into {target}; {cached}"
    idx_dir = Path(idx_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".mnist-idx-", dir=data_dir))
    try:
        files = verify_and_decompress(idx_dir, scratch)
        _build_from_files(files, data_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _remove_empty_parents(target, stop=data_dir)
        # TFDS creates an empty downloads/extracted even though nothing was downloaded.
        _remove_empty_parents(data_dir / "downloads" / "extracted", stop=data_dir)
    cached = _cache_decoded(target) or "its decoded-array cache was valid."
    return f"mnist {DATASET_VERSION} prepared from {idx_dir} into {target}; {cached}"


def _cache_decoded(target: Path) -> str:
    """Verify or (re)build the decoded-array cache of ``target``; a sentence, "" if it was valid."""
    from mnist_ref.decoded_cache import cache_path, ensure

    try:
        written = ensure(target)
    except OSError as exc:
        return (f"could not write the decoded-array cache {cache_path(target)} ({exc}); "
                "training will decode the images in every process.")
    return f"decoded arrays cached in {cache_path(target)}." if written else ""


def _remove_empty_parents(path: Path, stop: Path) -> None:
    """Remove ``path``'s empty ancestors up to (not including) ``stop``: leave nothing behind."""
    for parent in [path, *path.parents]:
        if parent == stop or stop not in parent.parents:
            break
        try:
            parent.rmdir()
        except OSError:
            break
