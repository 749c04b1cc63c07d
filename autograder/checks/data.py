"""Checks of the data pipeline: split sizes, scaling, shapes and labels, the leak, batching."""

from __future__ import annotations

from typing import Any

from autograder.checks.result import CheckResult
from autograder.evidence.facts import as_number, dataset_facts, split_overlap, trained_outside
from mnist_ref.lesson import IMAGE_SHAPE, NUM_CLASSES, NUM_TEST, NUM_TRAIN, NUM_TRAIN_FULL, NUM_VALIDATION


def _three_splits(train_data: Any, validation_data: Any, test_data: Any) -> list[tuple[str, dict]]:
    """(variable name, dataset facts) for the training, validation and test data."""
    return [(name, dataset_facts(data)) for name, data in
            [("train_data", train_data), ("validation_data", validation_data), ("test_data", test_data)]]


def _outside_words(outside: dict[str, tuple[int, int, int]]) -> str:
    """``history_100: 70,000 images a pass, 16,000 not in train_data, 6,000 validation images; ...``"""
    return "; ".join(f"{name}: {size:,} images a pass, {n:,} not in train_data"
                     + (f", {v:,} of them validation images" if v else "")
                     for name, (size, n, v) in list(outside.items())[:3])


def check_split_sizes(num_validation_samples: Any, num_test_samples: Any, train_data: Any,
                      validation_data: Any, test_data: Any) -> CheckResult:
    """10% of the 60,000 training images for validation: 54,000 / 6,000, and 10,000 test."""
    r = CheckResult()
    n_val = as_number(num_validation_samples)
    r.add(n_val == NUM_VALIDATION, f"num_validation_samples is {NUM_VALIDATION:,}",
          f"num_validation_samples is {num_validation_samples!r}; expected {NUM_VALIDATION:,} "
          f"(10% of the {NUM_TRAIN_FULL:,} training images)", weight=2)
    n_test = as_number(num_test_samples)
    r.add(n_test == NUM_TEST, f"num_test_samples is {NUM_TEST:,}",
          f"num_test_samples is {num_test_samples!r}; expected {NUM_TEST:,} "
          "(mnist_info.splits['test'].num_examples)")
    outside = trained_outside(train_data)
    for name, data, expected, why, weight in [
        ("train_data", train_data, NUM_TRAIN,
         f"{NUM_TRAIN_FULL:,} minus the {NUM_VALIDATION:,} validation images", 2),
        ("validation_data", validation_data, NUM_VALIDATION, "10% of the training set", 2),
        ("test_data", test_data, NUM_TEST, "the whole test split", 1),
    ]:
        count = dataset_facts(data)["num_examples"]
        larger = {h: o for h, o in outside.items() if o[0] > count}  # runs that trained on more images
        if name == "train_data" and count == expected and larger:
            r.add(False, "", f"train_data holds {expected:,} images, but your runs trained on more "
                  f"({_outside_words(larger)}); expected training on train_data's "
                  f"{expected:,} images only", weight=weight)
            continue
        r.add(count == expected, f"{name} holds {expected:,} images",
              f"{name} holds {count:,} images; expected {expected:,} ({why})", weight=weight)
    return r


def check_scaling(train_data: Any, validation_data: Any, test_data: Any) -> CheckResult:
    """Pixels as float32 in [0, 1] in all three splits (divide the uint8 values by 255 once)."""
    r = CheckResult()
    splits = _three_splits(train_data, validation_data, test_data)
    other = [f"{name} images are {f['image_dtype']}" for name, f in splits if f["image_dtype"] != "float32"]
    r.add(not other, "images are float32 in all three splits",
          f"{', '.join(other)}; expected float32 (tf.cast(image, tf.float32))", weight=2)
    for name, f in splits:
        lo, hi = f["min"], f["max"]
        in_range = lo is not None and lo >= 0.0 and hi <= 1.0 and hi > 0.5
        wrong = (f"{name} pixel values range from {lo} to {hi}; expected 0.0 to 1.0"
                 + (" (divide by 255.)" if hi is not None and hi > 1 else "")
                 + (" (did you divide by 255 twice?)" if hi is not None and 0 < hi <= 0.5 else ""))
        r.add(in_range, f"{name} pixels lie in [0, 1]", wrong, weight=2)
    return r


def check_shapes_and_labels(train_data: Any, validation_data: Any, test_data: Any) -> CheckResult:
    """Images 28x28x1, labels integer classes 0-9 (sparse labels, not one-hot)."""
    r = CheckResult()
    splits = _three_splits(train_data, validation_data, test_data)
    shapes = [f"{name} images have shape {f['image_shape']}" for name, f in splits
              if f["image_shape"] != list(IMAGE_SHAPE)]
    r.add(not shapes, "images are 28x28x1 in all three splits",
          f"{'; '.join(shapes)}; expected [28, 28, 1]")
    classes = list(range(NUM_CLASSES))
    labels = [f"{name} labels are {f['label_dtype']} with values {f['labels'][:12]}" for name, f in splits
              if not (f["label_dtype"].startswith(("int", "uint")) and f["labels"] == classes)]
    r.add(not labels, "labels are the integers 0-9 in all three splits",
          f"{'; '.join(labels)}; expected integer class labels 0-9 (keep as_supervised=True labels "
          "as they are)")
    return r


def check_no_validation_leak(train_data: Any, validation_data: Any) -> CheckResult:
    """Over two epochs, no validation image is ever in the training stream, and validation is fixed.

    Graded, the runs' own training data counts too: every run must have trained on the images
    ``train_data`` holds, never on validation (or test) images that a later call of
    ``make_datasets`` added.
    """
    r = CheckResult()
    size, shared_per_epoch, changes = split_overlap(train_data, validation_data)
    shared = ", ".join(f"{n:,}" for n in shared_per_epoch)
    outside = trained_outside(train_data)
    if any(shared_per_epoch):
        r.add(False, "", f"validation images also appear in the training data ({shared} of "
              f"{size:,} in epochs 1 and 2): shuffle() reshuffles on every "
              "iteration, so take()/skip() pick different images each epoch. Expected disjoint "
              "splits: shuffle once with reshuffle_each_iteration=False (and a seed) before "
              "take/skip.", weight=3)
    else:
        strays = {h: o for h, o in outside.items() if o[1] or o[2]}
        r.add(not strays, "training and validation stay disjoint in every epoch",
              f"train_data and validation_data are disjoint, but your runs trained on images that "
              f"train_data does not hold ({_outside_words(strays)}): make_datasets gave fit other "
              "data than the train_data checked here. Expected every call of make_datasets to split "
              "the same way, so training only ever sees the training images.", weight=3)
    r.add(not changes, "the validation set is the same in every epoch",
          "the validation set changes from one epoch to the next; expected a fixed "
          "validation set (shuffle with reshuffle_each_iteration=False before take/skip)")
    return r


def check_batching(train_data: Any, validation_data: Any, test_data: Any,
                   batch_size: int = 100) -> CheckResult:
    """Training in batches of the batch size; validation and test each as one single batch."""
    r = CheckResult()
    f = dataset_facts(train_data)
    sizes = f["batch_sizes"]
    full = sizes[:-1] if sizes else []
    ok = f["batched"] and bool(sizes) and all(s == batch_size for s in full) \
        and 0 < sizes[-1] <= batch_size
    seen = sorted(set(sizes))[:5] if f["batched"] else "none (not batched)"
    r.add(ok, f"train_data comes in batches of {batch_size}",
          f"train_data batches have sizes {seen}; "
          f"expected {batch_size} (train_data.batch(BATCH_SIZE))", weight=2)
    for name, data, n in [("validation_data", validation_data, NUM_VALIDATION),
                          ("test_data", test_data, NUM_TEST)]:
        g = dataset_facts(data)
        single = g["batched"] and len(g["batch_sizes"]) == 1
        layout = f"in {len(g['batch_sizes'])} batches" if g["batched"] else "not batched"
        r.add(single, f"{name} is a single batch",
              f"{name} is {layout}; "
              f"expected one batch of all its images ({name}.batch({n:,}), as in the lesson)")
    return r
