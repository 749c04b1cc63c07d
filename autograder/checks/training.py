"""Checks of the runs: the main 5-epoch run, each exercise's batch size, and the batch-size trend."""

from __future__ import annotations

import inspect
import math
import statistics
from collections.abc import Callable
from typing import Any

from autograder.checks import bands
from autograder.checks.data import check_scaling, check_split_sizes
from autograder.checks.model import check_architecture, check_compile
from autograder.checks.result import CheckResult
from autograder.evidence.facts import dataset_facts, history_facts, is_dataset
from mnist_ref.lesson import (
    BATCH_SIZE,
    EPOCHS,
    LARGE_BATCH_SIZE,
    LONG_RUN_BATCH_SIZES,
    LONG_RUN_EPOCHS,
    NUM_TRAIN,
    SGD_BATCH_SIZE,
    full_epoch_seconds,
    full_epoch_steps,
)


def num_train(train_data: Any) -> int:
    """How many training images the student's pipeline yields (54,000 when it is right)."""
    if is_dataset(train_data):
        return dataset_facts(train_data)["num_examples"] or NUM_TRAIN
    return NUM_TRAIN


def implied_batch_size(history: dict, num_train: int) -> int | None:
    """The batch size a run used, from Keras's steps per epoch."""
    steps = history["params"].get("steps")
    if not steps:
        return None
    candidates = [b for b in (1, 10, 100, 1_000, 10_000, 30_000, 50_000, num_train)
                  if math.ceil(num_train / b) == steps]
    return candidates[0] if candidates else math.ceil(num_train / steps)


def _passes(check: Callable[..., CheckResult], namespace: dict[str, Any]) -> bool:
    """Whether ``check``, given its arguments from ``namespace``, passes fully; never raises."""
    try:
        return check(**{name: namespace[name] for name, p in inspect.signature(check).parameters.items()
                        if p.kind is not inspect.Parameter.KEYWORD_ONLY}).score >= 1
    except Exception:  # the student's objects can fail in any way: then it did not pass
        return False


def same_as_lesson(model: Any, **data: Any) -> tuple[bool, list[str]]:
    """Whether the pipeline and model match the lesson, so the reference bands apply.

    A mistake already costs points in its own cell; comparing the resulting accuracy with
    the reference band would charge for it twice.
    """
    names = [check.__name__.removeprefix("check_") for check, namespace in
             [(check_split_sizes, data), (check_scaling, data),
              (check_architecture, {"model": model}), (check_compile, {"model": model})]
             if not _passes(check, namespace)]
    return not names, names


def band_part(r: CheckResult, value: float, band: tuple[float, float], what: str,
               comparable: bool, differs: list[str], weight: float = 1.0) -> None:
    lo, hi = band
    if not comparable:
        r.add(True, f"{what} is {value:.4f} (not compared with the reference band because "
              f"these differ from the lesson: {', '.join(differs)}; see those cells)", "", weight=weight)
        return
    r.add(lo <= value <= hi, f"{what} is {value:.4f}, within the reference band {lo}-{hi}",
          f"{what} is {value:.4f}; the lesson's setup reaches {lo}-{hi}. Check the pipeline "
          "and the training call (epochs, validation_data).", weight=weight)


def check_training_history(history_100: Any, model_100: Any, num_validation_samples: Any,
                           num_test_samples: Any, train_data: Any, validation_data: Any,
                           test_data: Any) -> CheckResult:
    """The main run: 5 epochs at batch size 100, validation accuracy in the reference band."""
    r = CheckResult()
    h = history_facts(history_100)
    logs = h["history"]
    epochs = len(logs.get("val_accuracy", []))
    r.add(epochs == EPOCHS, f"{EPOCHS} epochs recorded with validation",
          f"history_100 has {epochs} epoch(s) with val_accuracy; expected {EPOCHS} "
          "(NUM_EPOCHS = 5, and validation_data passed to fit)")
    n_train = num_train(train_data)
    batch = implied_batch_size(h, n_train)
    r.add(batch == BATCH_SIZE, f"trained in batches of {BATCH_SIZE}",
          f"history_100 ran {h['params'].get('steps')} updates per epoch (batch size {batch}); "
          f"expected batch size {BATCH_SIZE} ({full_epoch_steps(BATCH_SIZE, n_train)} updates per epoch)")
    if epochs:
        ok, differs = same_as_lesson(
            model_100, num_validation_samples=num_validation_samples,
            num_test_samples=num_test_samples, train_data=train_data,
            validation_data=validation_data, test_data=test_data)
        band_part(r, logs["val_accuracy"][-1], bands.MAIN_VAL_ACCURACY,
                   "the final validation accuracy", ok, differs, weight=2)
    return r


def check_test_evaluation(test_accuracy: Any, model_100: Any, num_validation_samples: Any,
                          num_test_samples: Any, train_data: Any, validation_data: Any,
                          test_data: Any) -> CheckResult:
    """test_accuracy comes from model_100.evaluate(test_data) and is in the reference band."""
    r = CheckResult()
    try:
        value = float(test_accuracy)
    except (TypeError, ValueError):
        return r.fail(f"test_accuracy is {test_accuracy!r}; expected a number from "
                      "test_loss, test_accuracy = model_100.evaluate(test_data)")
    ok, differs = same_as_lesson(
        model_100, num_validation_samples=num_validation_samples,
        num_test_samples=num_test_samples, train_data=train_data,
        validation_data=validation_data, test_data=test_data)
    band_part(r, value, bands.MAIN_TEST_ACCURACY, "the test accuracy", ok, differs)
    return r


def check_run_batch_size(history: Any, batch_size: int, train_data: Any,
                         min_epochs: int = 1) -> CheckResult:
    """An exercise's run used the batch size the exercise asks for (from its updates per epoch)."""
    r = CheckResult()
    h = history_facts(history)
    n_train = num_train(train_data)
    used = implied_batch_size(h, n_train)
    expected_steps = full_epoch_steps(batch_size, n_train)
    r.add(h["params"].get("steps") == expected_steps, f"trained with batch size {batch_size:,}",
          f"this run took {h['params'].get('steps')} updates per epoch, i.e. batch size {used}; "
          f"the exercise asks for batch size {batch_size:,} ({expected_steps:,} updates per epoch)", weight=3)
    requested = h["params"].get("epochs", 0)
    r.add(requested >= min_epochs, f"{requested} epochs requested",
          f"this run requested {requested} epochs; expected at least {min_epochs}")
    return r


def check_long_run(history_long: Any, train_data: Any) -> CheckResult:
    """The follow-up: batch 30,000 or 50,000 for about 100 epochs (close to full-batch descent)."""
    r = CheckResult()
    h = history_facts(history_long)
    n_train = num_train(train_data)
    allowed = {full_epoch_steps(b, n_train) for b in LONG_RUN_BATCH_SIZES}
    steps = h["params"].get("steps")
    r.add(steps in allowed, "batch size 30,000 or 50,000",
          f"this run took {steps} updates per epoch (batch size {implied_batch_size(h, n_train)}); "
          "expected batch size 30,000 or 50,000 (2 updates per epoch)")
    requested = h["params"].get("epochs", 0)
    r.add(requested >= bands.LONG_RUN_MIN_EPOCHS, f"{requested} epochs requested",
          f"this run requested {requested} epochs; expected about {LONG_RUN_EPOCHS}")
    return r


def estimated_epoch_seconds(history: dict) -> list[float]:
    """Seconds per full epoch, scaling up epochs the grading budget cut short."""
    logs, steps = history["history"], history["params"].get("steps")
    seconds, updates = logs.get("seconds", []), logs.get("updates", [])
    return [full_epoch_seconds(s, u, steps) for s, u in zip(seconds, updates, strict=False)]


def _wrong_runs(right: dict[str, bool], *names: str) -> str:
    """Which of these runs did not use the batch size its exercise asks for, as words."""
    wrong = [n for n in names if not right[n]]
    return f"{' and '.join(wrong)} did not run at the batch size {'its' if len(wrong) == 1 else 'their'} " \
        "exercise asks for"


def check_trend(history_100: Any, history_10000: Any, history_1: Any, model_100: Any,
                num_validation_samples: Any, num_test_samples: Any, train_data: Any,
                validation_data: Any, test_data: Any) -> CheckResult:
    """With the student's own pipeline and model: 100 beats 10,000; 1 is far slower but accurate."""
    r = CheckResult()
    n_train = num_train(train_data)
    h100, h10k, h1 = (history_facts(h) for h in (history_100, history_10000, history_1))
    right = {name: implied_batch_size(h, n_train) == b
             for name, h, b in [("history_100", h100, BATCH_SIZE), ("history_10000", h10k, LARGE_BATCH_SIZE),
                                ("history_1", h1, SGD_BATCH_SIZE)]}

    acc100, acc10k = h100["history"].get("val_accuracy", []), h10k["history"].get("val_accuracy", [])
    k = min(len(acc100), len(acc10k))
    if not (right["history_100"] and right["history_10000"]):
        wrong = _wrong_runs(right, "history_100", "history_10000")
        r.add(False, "", f"batch 100 vs 10,000 cannot be compared: {wrong} (see the exercise cells); "
              "a trend needs the runs the exercises ask for")
    elif k == 0:
        r.add(False, "", "no validation accuracy recorded for batch 100 or 10,000")
    else:
        r.add(acc100[k - 1] > acc10k[k - 1],
              f"after {k} epochs batch 100 ({acc100[k - 1]:.4f}) beats batch 10,000 "
              f"({acc10k[k - 1]:.4f}) on validation accuracy",
              f"after {k} epochs batch 100 reached {acc100[k - 1]:.4f} and batch 10,000 "
              f"{acc10k[k - 1]:.4f}; expected batch 100 to be clearly ahead (far more updates)")

    t1, t100 = estimated_epoch_seconds(h1), estimated_epoch_seconds(h100)
    if not (right["history_1"] and right["history_100"]):
        wrong = _wrong_runs(right, "history_1", "history_100")
        r.add(False, "", f"the time per epoch cannot be compared: {wrong}")
    elif not t1 or not t100:
        r.add(False, "", "no per-epoch times recorded; expected runs made with train_model "
              "(it records seconds and updates per epoch)")
    else:
        per100 = statistics.median(t100[1:] or t100)
        ratio = t1[0] / per100 if per100 > 0 else math.inf
        r.add(ratio >= bands.MIN_TIME_RATIO_BATCH1_VS_100,
              f"batch 1 takes about {t1[0]:.0f} s per epoch, {ratio:.0f}x batch 100's {per100:.1f} s",
              f"batch 1 took about {t1[0]:.1f} s per epoch and batch 100 {per100:.1f} s "
              f"({ratio:.1f}x); expected batch 1 to be at least "
              f"{bands.MIN_TIME_RATIO_BATCH1_VS_100:g}x slower per epoch "
              f"({full_epoch_steps(SGD_BATCH_SIZE):,} updates vs {full_epoch_steps(BATCH_SIZE):,})")

    acc1 = h1["history"].get("val_accuracy", [])
    if not right["history_1"]:
        r.add(False, "", "batch 1's accuracy cannot be judged: history_1 did not run at batch size 1 "
              "(see exercise 7)")
    elif not acc1:
        r.add(False, "", "no validation accuracy recorded for batch size 1")
    else:
        budgeted = h1["history"].get("updates", [h1["params"].get("steps")])[0] < h1["params"].get("steps", 0)
        floor = bands.BATCH1_FIRST_EPOCH_BUDGET if budgeted else bands.BATCH1_FIRST_EPOCH_FULL
        ok, differs = same_as_lesson(
            model_100, num_validation_samples=num_validation_samples,
            num_test_samples=num_test_samples, train_data=train_data,
            validation_data=validation_data, test_data=test_data)
        if not ok:
            r.add(True, f"batch 1 reached {acc1[0]:.4f} after one epoch (not compared with the "
                  f"reference because these differ from the lesson: {', '.join(differs)})", "")
        else:
            r.add(acc1[0] >= floor, f"batch 1 reached {acc1[0]:.4f} after one epoch",
                  f"batch 1 reached only {acc1[0]:.4f} after one epoch; expected at least {floor}")
    return r
