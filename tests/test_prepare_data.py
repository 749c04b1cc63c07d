"""`python -m mnist_ref prepare-data`: builds TFDS's mnist offline and refuses bad input cleanly."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from tests.helpers import run_module

PREPARE = ("mnist_ref", "prepare-data")


def _leftovers(data_dir: Path) -> list[str]:
    """Everything prepare-data left in the data dir (there should be nothing after a failure)."""
    if not data_dir.exists():
        return []
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, idx_dir: Path) -> tuple[Path, str]:
    """One dataset built from a copy of the shared folder (building takes ~10 s)."""
    import shutil

    idx = tmp_path_factory.mktemp("idx")
    for f in idx_dir.glob("*.gz"):
        shutil.copyfile(f, idx / f.name)
    data_dir = tmp_path_factory.mktemp("tfds")
    proc = run_module(*PREPARE, "--from", str(idx), "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    return data_dir, proc.stdout


@pytest.mark.mnist
def test_builds_tfds_mnist_301_with_the_download_splits_and_features(built):
    """The prepared dataset is TFDS's own mnist 3.0.1: 60,000/10,000, image 28x28x1 + label."""
    data_dir, stdout = built
    assert "prepared from" in stdout
    info = json.loads((data_dir / "mnist" / "3.0.1" / "dataset_info.json").read_text())
    assert info["name"] == "mnist" and info["version"] == "3.0.1"
    shards = {s["name"]: sum(int(n) for n in s["shardLengths"]) for s in info["splits"]}
    assert shards == {"train": 60_000, "test": 10_000}
    assert info["moduleName"] == "tensorflow_datasets.image_classification.mnist"
    assert _leftovers(data_dir) == sorted(
        ["mnist", "mnist/3.0.1"]
        + [f"mnist/3.0.1/{n}" for n in ("dataset_info.json", "features.json",
                                        "mnist-test.tfrecord-00000-of-00001",
                                        "mnist-train.tfrecord-00000-of-00001",
                                        "mnist_ref-decoded")]  # mnist_ref.decoded_cache, its files:
        + [f"mnist/3.0.1/mnist_ref-decoded/{n}" for n in ("key.json", "x_test.npy", "x_train.npy",
                                                          "y_test.npy", "y_train.npy")]
    )


@pytest.mark.mnist
def test_plain_tfds_load_works_in_a_new_process(built):
    """After preparing, a fresh process's tfds.load('mnist', ...) reads it with no network."""
    data_dir, _ = built
    code = (
        "import tensorflow_datasets as tfds\n"
        "ds, info = tfds.load('mnist', with_info=True, as_supervised=True)\n"
        "img, label = next(iter(ds['train']))\n"
        "print(info.splits['train'].num_examples, info.splits['test'].num_examples,"
        " tuple(img.shape), img.dtype.name, label.dtype.name)\n"
    )
    proc = run_module("tests.run_code", code, env={"TFDS_DATA_DIR": str(data_dir)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-7:] == ["60000", "10000", "(28,", "28,", "1)", "uint8", "int64"]


@pytest.mark.mnist
def test_second_run_is_a_fast_no_op_that_never_imports_tensorflow(built, idx_dir):
    """A second run sees the prepared dataset and returns at once, without loading TensorFlow."""
    data_dir, _ = built
    before = {p: p.stat().st_mtime_ns for p in data_dir.rglob("*")}
    code = (
        "import sys\nfrom pathlib import Path\nfrom mnist_ref.offline_data import prepare\n"
        f"print(prepare(Path({str(idx_dir)!r}), Path({str(data_dir)!r})))\n"
        "print('tensorflow loaded:', 'tensorflow' in sys.modules)\n"
    )
    start = time.perf_counter()
    proc = run_module("tests.run_code", code)
    elapsed = time.perf_counter() - start
    print(f"second prepare-data run: {elapsed:.2f} s")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stdout
    assert "tensorflow loaded: False" in proc.stdout
    assert {p: p.stat().st_mtime_ns for p in data_dir.rglob("*")} == before


IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")  # the order prepare-data checks them in


def _fake_idx_folder(folder: Path) -> Path:
    """The four IDX .gz files by name: valid gzip, but small and not MNIST's content."""
    folder.mkdir()
    for name in IDX_NAMES:
        (folder / f"{name}.gz").write_bytes(gzip.compress(f"not MNIST: {name}".encode() * 100))
    return folder


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", ["Missing MNIST file", "t10k-labels-idx1-ubyte.gz", "Fix:"]),
        ("not_mnist", ["Checksum mismatch", "train-images-idx3-ubyte.gz",
                       "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                       "47,040,016 bytes", "Fix:"]),
        ("truncated", ["train-images-idx3-ubyte.gz", "truncated or corrupt", "Fix:"]),
        ("not_gzip", ["train-images-idx3-ubyte.gz", "truncated or corrupt", "Fix:"]),
        ("not_a_folder", ["does not exist or is not a directory", "Fix:"]),
    ],
)
def test_bad_input_fails_with_a_message_and_leaves_nothing_behind(tmp_path: Path, damage: str,
                                                                  expected: list[str]):
    """Missing file, wrong content, truncated or no gzip, not a folder: exit 2, say which and how to fix."""
    idx = _fake_idx_folder(tmp_path / "idx")
    first = idx / f"{IDX_NAMES[0]}.gz"  # checked first, so its damage is the one reported
    if damage == "missing":
        (idx / "t10k-labels-idx1-ubyte.gz").unlink()
    elif damage == "truncated":
        first.write_bytes(gzip.compress(bytes(range(256)) * 400)[:500])
    elif damage == "not_gzip":
        first.write_text("<html>not found</html>")
    elif damage == "not_a_folder":
        idx = first
    data_dir = tmp_path / "tfds"
    proc = run_module(*PREPARE, "--from", str(idx), "--data-dir", str(data_dir))
    assert proc.returncode == 2
    for fragment in expected:
        assert fragment in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _leftovers(data_dir) == []


@pytest.mark.mnist
def test_one_changed_byte_in_the_real_files_fails_the_checksum(idx_copy: Path, tmp_path: Path):
    """Real files, one label byte flipped and recompressed: the content's SHA-256 catches it."""
    f = idx_copy / "train-labels-idx1-ubyte.gz"
    data = gzip.decompress(f.read_bytes())
    f.write_bytes(gzip.compress(data[:100] + bytes([data[100] ^ 1]) + data[101:]))
    data_dir = tmp_path / "tfds"
    proc = run_module(*PREPARE, "--from", str(idx_copy), "--data-dir", str(data_dir))
    assert proc.returncode == 2
    for fragment in ["Checksum mismatch", "train-labels-idx1-ubyte.gz",
                     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "Fix:"]:
        assert fragment in proc.stderr, proc.stderr
    assert _leftovers(data_dir) == []


def test_mnist_idx_dir_environment_variable_names_the_folder(tmp_path: Path):
    """Without --from, MNIST_IDX_DIR is used (here pointing at an empty folder: clear error)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_module(*PREPARE, "--data-dir", str(tmp_path / "tfds"),
                      env={"MNIST_IDX_DIR": str(empty)})
    assert proc.returncode == 2
    assert str(empty) in proc.stderr and "Missing MNIST file" in proc.stderr
