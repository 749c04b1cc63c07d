"""The notebook's locked data cell under grading: the same MNIST elements, read from decoded arrays.

``decoded_when_graded`` swaps ``tfds.load``'s splits for datasets built from the prepared
dataset's decoded-array cache, only while nbgrader runs the notebook and only when nothing a
check sees can change: same element spec, same count, same order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_ref.decoded_cache import cache_path, source_key, write_cache
from tests.helpers import fake_dataset, synthetic


def _as_tfds_gives(arrays) -> dict:
    """What ``tfds.load("mnist", as_supervised=True)`` returns for these arrays: a dict of splits."""
    import tensorflow as tf

    return {"train": tf.data.Dataset.from_tensor_slices((arrays.x_train, arrays.y_train)),
            "test": tf.data.Dataset.from_tensor_slices((arrays.x_test, arrays.y_test))}


def _elements(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.stack(images), np.array(labels)


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A prepared dataset with a valid decoded-array cache, as TFDS_DATA_DIR; returns its arrays."""
    folder = fake_dataset(tmp_path / "tfds")
    arrays = synthetic(seed=3)
    write_cache(cache_path(folder), arrays, source_key(folder))
    monkeypatch.setenv("TFDS_DATA_DIR", str(folder.parents[1]))
    return arrays


def _graded(monkeypatch: pytest.MonkeyPatch, graded: bool = True) -> None:
    if graded:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_under_grading_the_splits_come_from_the_cache_with_the_same_elements(cached, monkeypatch):
    from autograder.notebook import decoded_when_graded

    _graded(monkeypatch)
    given = _as_tfds_gives(cached)
    swapped = decoded_when_graded(given)
    assert swapped is not given and set(swapped) == {"train", "test"}
    for name, (x, y) in {"train": cached[:2], "test": cached[2:]}.items():
        assert swapped[name].element_spec == given[name].element_spec
        images, labels = _elements(swapped[name])
        assert images.tobytes() == x.tobytes() and labels.tolist() == y.tolist()


def test_in_jupyterlab_the_splits_are_left_alone(cached, monkeypatch):
    from autograder.notebook import decoded_when_graded

    _graded(monkeypatch, graded=False)
    given = _as_tfds_gives(cached)
    assert decoded_when_graded(given) is given


@pytest.mark.parametrize("change", ["float images", "other count", "a dict per element", "three splits"])
def test_splits_that_are_not_tfds_mnist_as_pairs_are_left_alone(cached, monkeypatch, change):
    import tensorflow as tf

    from autograder.notebook import decoded_when_graded

    _graded(monkeypatch)
    given = _as_tfds_gives(cached)
    if change == "float images":
        given["train"] = given["train"].map(lambda x, y: (tf.cast(x, tf.float32), y))
    elif change == "other count":
        given["train"] = given["train"].take(3)
    elif change == "a dict per element":  # as_supervised=False
        given["test"] = given["test"].map(lambda x, y: {"image": x, "label": y})
    else:
        given["validation"] = given["test"]
    assert decoded_when_graded(given) is given


def test_without_a_valid_cache_the_splits_are_left_alone(cached, monkeypatch):
    from autograder.notebook import decoded_when_graded
    from mnist_ref.offline_data import prepared_dataset_dir

    _graded(monkeypatch)
    path = cache_path(prepared_dataset_dir()) / "x_test.npy"
    path.write_bytes(path.read_bytes()[:-10])  # truncated: never used, never decoded again here
    given = _as_tfds_gives(cached)
    assert decoded_when_graded(given) is given


def test_under_tfds_mock_data_the_splits_are_left_alone(mock_mnist, monkeypatch):
    import tensorflow_datasets as tfds

    from autograder.notebook import decoded_when_graded

    _graded(monkeypatch)
    given = tfds.load("mnist", as_supervised=True)
    assert decoded_when_graded(given) is given


def test_on_real_mnist_the_swapped_splits_equal_tfds_load_element_by_element(prepared_mnist, monkeypatch):
    """Bit for bit and in order, both splits: so every check and every trained model is the same."""
    import tensorflow_datasets as tfds

    from autograder.notebook import decoded_when_graded
    from mnist_ref.decoded_cache import ensure

    ensure(prepared_mnist)
    _graded(monkeypatch)
    given = tfds.load("mnist", as_supervised=True)
    swapped = decoded_when_graded(given)
    assert swapped is not given
    for name in ("train", "test"):
        assert int(swapped[name].cardinality()) == int(given[name].cardinality())
        for a, b in zip(given[name].batch(10_000).as_numpy_iterator(),
                        swapped[name].batch(10_000).as_numpy_iterator(), strict=True):
            assert a[0].tobytes() == b[0].tobytes() and a[1].tolist() == b[1].tolist()
