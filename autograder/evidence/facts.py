"""Plain, JSON-friendly facts about the student's objects: datasets, models, histories.

Checks judge these facts rather than poking at live objects, so the same judgement runs in
the kernel on live objects and in the judge on evidence records read back from files.
Dataset facts are cached per object: several checks look at the same ``train_data`` and
reading 54,000 images once is enough.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from autograder.evidence.records import DatasetEvidence

_DATASET_CACHE: dict[int, tuple[Any, dict]] = {}
# Bound now: the kernel's writer (autograder.evidence.write) takes dataset facts after student code has
# run, and replacing NumPy's functions or the builtins then must not change them.
_np_asarray, _np_unique, _np_float64 = np.asarray, np.unique, np.float64
_isinstance, _len, _id, _type = builtins.isinstance, builtins.len, builtins.id, builtins.type
_int, _float, _min, _max = builtins.int, builtins.float, builtins.min, builtins.max
_dict, _tuple, _list = builtins.dict, builtins.tuple, builtins.list
_set, _sorted = builtins.set, builtins.sorted
_inf = math.inf

ACTIVATION_ALIASES = {"softmax_v2": "softmax", None: "linear"}


def as_number(value: Any) -> float | None:
    """A finite float from a number, NumPy scalar or 0-d tensor; None for anything else."""
    try:
        number = float(value.numpy() if hasattr(value, "numpy") else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def is_dataset(obj: Any) -> bool:
    """A tf.data.Dataset, or the judge's record of one."""
    if _isinstance(obj, DatasetEvidence):
        return True
    import tensorflow as tf

    return _isinstance(obj, tf.data.Dataset)


def split_element(element: Any) -> tuple[Any, Any]:
    """(images, labels) from a dataset element: a 2-tuple or a dict with image/label keys."""
    if _isinstance(element, _dict):
        return element["image"], element["label"]
    if _isinstance(element, (_tuple, _list)) and _len(element) == 2:
        return element[0], element[1]
    raise TypeError("elements are not (image, label) pairs; use as_supervised=True")


def dataset_facts(dataset: Any) -> dict:
    """Count, batch sizes, dtypes, value range and label set of one pass over a dataset."""
    if _isinstance(dataset, DatasetEvidence):
        return dataset.facts
    key = _id(dataset)
    if key in _DATASET_CACHE and _DATASET_CACHE[key][0] is dataset:
        return _DATASET_CACHE[key][1]
    if not is_dataset(dataset):
        raise TypeError(f"expected a tf.data.Dataset, got {_type(dataset).__name__}")
    images_spec, labels_spec = split_element(dataset.element_spec)
    batched = _len(images_spec.shape) == 4
    batch_sizes: list[int] = []
    lo, hi, total, count = _inf, -_inf, 0.0, 0
    labels: set[int] = _set()
    for element in dataset.as_numpy_iterator():
        images, y = split_element(element)
        images = _np_asarray(images)
        if not batched:
            images, y = images[None], _np_asarray(y)[None]
        batch_sizes.append(_int(images.shape[0]))
        if images.size:
            lo, hi = _min(lo, _float(images.min())), _max(hi, _float(images.max()))
            total += _float(images.astype(_np_float64).sum())
        count += _int(images.shape[0])
        labels.update(_int(v) for v in _np_unique(y))
    facts = {
        "batched": batched,
        "num_examples": count,
        "batch_sizes": batch_sizes,
        "image_dtype": images_spec.dtype.name,
        "image_shape": [d for d in images_spec.shape[1 if batched else 0:]],
        "label_dtype": labels_spec.dtype.name,
        "labels": _sorted(labels),
        "min": lo if count else None,
        "max": hi if count else None,
        "mean": total / (count * 784) if count else None,
    }
    _DATASET_CACHE[key] = (dataset, facts)
    return facts


def activation_name(fn: Any) -> str:
    """A canonical name for a Keras/TF activation given as a function, string or None."""
    name = fn if isinstance(fn, str) or fn is None else getattr(fn, "__name__", type(fn).__name__)
    name = ACTIVATION_ALIASES.get(name, name)
    return str(name).lower()


def model_layers(model: Any) -> list[dict]:
    """The model as a list of steps: flatten, dense(units, activation), activation(name)."""
    steps: list[dict] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind == "Dense":
            steps.append({"type": "dense", "units": int(layer.units),
                          "activation": activation_name(layer.activation)})
        elif kind == "Activation":
            steps.append({"type": "activation", "activation": activation_name(layer.activation)})
        elif kind in ("ReLU", "Softmax"):
            steps.append({"type": "activation", "activation": kind.lower()})
        elif kind == "Flatten" or (kind == "Reshape" and len(layer.target_shape) == 1):
            steps.append({"type": "flatten"})  # Reshape((784,)) flattens each image just the same
        else:
            steps.append({"type": kind})
    return steps


def merged_layers(steps: list[dict]) -> list[dict]:
    """Fold separate activation layers into the Dense layer before them (equivalent models)."""
    merged: list[dict] = []
    for step in steps:
        if step["type"] == "activation" and merged and merged[-1]["type"] == "dense" \
                and merged[-1]["activation"] == "linear":
            merged[-1] = {**merged[-1], "activation": step["activation"]}
        elif step["type"] == "activation" and step["activation"] == "linear":
            continue
        else:
            merged.append(dict(step))
    return merged


def model_facts(model: Any) -> dict:
    """Architecture, parameter count and compile settings of a Keras model."""
    import tensorflow as tf

    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"expected a tf.keras Model, got {type(model).__name__}")
    try:
        input_shape = list(model.input_shape)[1:]
    except (AttributeError, ValueError):
        input_shape = None
    compiled = getattr(model, "compiled", False) or getattr(model, "optimizer", None) is not None
    return {
        "layers": model_layers(model),
        "input_shape": input_shape,
        "params": int(model.count_params()) if model.built else None,
        "compile": model.get_compile_config() if compiled else None,
    }


def history_facts(history: Any) -> dict:
    """What Keras recorded in a History: its params (epochs, steps) and per-epoch logs."""
    params = dict(getattr(history, "params", None) or {})
    logs = {k: [float(v) for v in vals] for k, vals in (getattr(history, "history", None) or {}).items()}
    return {"params": {k: v for k, v in params.items() if isinstance(v, (int, float))}, "history": logs}


def split_overlap(train: Any, validation: Any) -> tuple[int, list[int], bool]:
    """(validation size, validation images shared with training per epoch, validation changes)."""
    if isinstance(train, DatasetEvidence) and isinstance(validation, DatasetEvidence):
        shared = [len(set(v.tolist()) & set(t.tolist())) for v, t in zip(validation.epochs, train.epochs,
                                                                       strict=True)]
        changes = set(validation.epochs[0].tolist()) != set(validation.epochs[1].tolist())
        return len(set(validation.epochs[0].tolist())), shared, changes
    from mnist_ref.data import measure_overlap

    report = measure_overlap(train, validation, epochs=2)
    return report.validation_size, report.shared_per_epoch, report.validation_changes


def trained_outside(train: Any) -> dict[str, tuple[int, int, int]]:
    """Runs whose fit trained on other data than ``train``: history -> (images in one pass, of them not
    in ``train``, of them validation images).  Only the judge knows (autograder.judge.training_data);
    empty in the kernel."""
    return dict(train.trained_outside) if isinstance(train, DatasetEvidence) else {}
