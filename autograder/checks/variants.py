"""Checks of the hyper-parameter exercises: each variant's run, its effect against the student's own
baseline run, and exercise 10's saved full-size run."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from typing import Any

import numpy as np

from autograder.checks import bands
from autograder.checks.model import check_architecture, check_compile
from autograder.checks.result import CheckResult
from autograder.checks.training import band_part, estimated_epoch_seconds, num_train, same_as_lesson
from autograder.evidence.facts import history_facts, merged_layers, model_facts
from autograder.evidence.records import SavedRun
from mnist_ref.lesson import (
    BASELINE,
    BATCH_SIZE,
    EPOCHS,
    EXERCISE10_TARGET,
    VARIANTS,
    Variant,
    full_epoch_steps,
)

# An exercise cell's parts: the model 2, the run 1, the effect 3 (a cell is worth 3 points).
EFFECT_WEIGHT = 3


def _as_spelled(model: Any, variant: Variant) -> Variant:
    """The variant as this model may spell it: a mix of activations in any order (exercise 5)."""
    if len(set(variant.activations)) < 2:
        return variant
    try:
        hidden = [s for s in merged_layers(model_facts(model)["layers"]) if s["type"] == "dense"][:-1]
    except Exception:  # not a model: the architecture check says so
        return variant
    acts = tuple(s["activation"] for s in hidden)
    if len(acts) == len(variant.activations) and set(acts) == set(variant.activations):
        return replace(variant, activations=acts)
    return variant


def _learning_rate(model: Any) -> float | None:
    """The learning rate a model was compiled with, whatever its optimizer; None if there is none."""
    try:
        optimizer = (model_facts(model)["compile"] or {}).get("optimizer") or {}
        lr = (optimizer.get("config") or {}).get("learning_rate") if isinstance(optimizer, dict) else None
    except Exception:  # not a model
        return None
    return float(lr) if isinstance(lr, (int, float)) else None


def _model_is(model: Any, variant: Variant, baseline: Any = None) -> tuple[bool, str]:
    """Whether ``model`` is the variant's architecture with its learning rate, and if not, why not.

    With the student's ``baseline`` model, a compile setting that is wrong in both the same way
    (another optimizer, loss or metric) was charged in its own cell and is not charged again;
    the learning rate the exercise asks for is judged whatever the optimizer.
    """
    arch = check_architecture(model, widths=variant.widths, activations=variant.activations)
    compiled = check_compile(model, learning_rate=variant.learning_rate)
    parts = compiled.parts
    if baseline is not None:
        base = check_compile(baseline, learning_rate=BASELINE.learning_rate).parts
        if len(base) == len(parts):
            parts = [p for p, b in zip(parts, base, strict=True) if p.passed or b.passed]
    wrong = [p.message for p in arch.parts + parts if not p.passed and p.weight]
    lr = _learning_rate(model)
    asked = variant.learning_rate != BASELINE.learning_rate  # exercises 8 and 9 change it
    if asked and lr is not None and not math.isclose(lr, variant.learning_rate, rel_tol=1e-4) \
            and not any("learning rate" in w for w in wrong):
        wrong.append(f"the learning rate is {lr:g}; expected {variant.learning_rate:g}")
    return not wrong, "; ".join(wrong)


def _trained_it(model: Any, history: Any) -> bool:
    """Whether ``history`` is the record of ``model``'s training: its ``fit`` trained these very weights.

    A History keeps the model ``fit`` trained (``History.model``; the judge's verified history
    carries it too).  A history without one is judged by the history checks, not here.
    """
    trained = getattr(history, "model", None)
    if trained is None or trained is model:
        return True
    try:
        mine, theirs = model.get_weights(), trained.get_weights()
    except Exception:  # not a model
        return False
    return len(mine) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))


def _ran_as_asked(history: Any, model: Any = None, baseline: Any = None,
                  train_data: Any = None) -> tuple[bool, str]:
    """Whether a run trained ``model`` (if given) 5 epochs at batch size 100 (Keras's params); if not, why.

    The updates per epoch expected are those of the student's own ``baseline`` History, or of
    batches of 100 from their own ``train_data``: a split of another size was charged in its
    own cell and is not charged again.
    """
    if model is not None and not _trained_it(model, history):
        return False, ("its history is not the record of this model's training (its fit trained other "
                       "weights); expected the model and history train_model returns together")
    h = history_facts(history)
    steps, epochs = h["params"].get("steps"), h["params"].get("epochs")
    expected, whose = full_epoch_steps(BATCH_SIZE, num_train(train_data)), ""
    own = history_facts(baseline)["params"].get("steps") if baseline is not None else None
    if own:
        expected, whose = own, ", as your baseline's"
    elif train_data is not None:
        whose = ", from your train_data"
    ok = steps == expected and epochs == EPOCHS
    return ok, f"it ran {epochs} epoch(s) of {steps} updates; expected {EPOCHS} epochs at batch size " \
               f"{BATCH_SIZE} ({expected} updates per epoch{whose}): train_model's defaults"



def _steady_seconds(history: Any) -> float | None:
    """Median seconds per full epoch after the first (which also builds TensorFlow's graph)."""
    seconds = estimated_epoch_seconds(history_facts(history))
    return statistics.median(seconds[1:] or seconds) if seconds else None


def _val_accuracy(history: Any, epoch: int | None) -> float | None:
    """Validation accuracy after ``epoch`` (1-based; None: the last epoch)."""
    values = history_facts(history)["history"].get("val_accuracy") or []
    if not values:
        return None
    return values[-1] if epoch is None else values[min(epoch, len(values)) - 1]


def _effect_part(r: CheckResult, variant: Variant, history: Any, baseline: Any) -> None:
    """The change the exercise teaches, measured against the student's own baseline run (EFFECT_WEIGHT).

    For a network that computes more per update, a line without points also shows its time per
    epoch against the baseline's: graded seconds follow the machine's load, so they are shown,
    not scored.
    """
    effect = bands.VARIANT_EFFECTS[variant.name]
    mine, base = _val_accuracy(history, None), _val_accuracy(baseline, None)
    when = "after the last epoch"
    if mine is None or base is None:
        r.add(False, "", "no validation accuracy recorded to compare; expected validation_data in fit "
              "(train_model passes it)", weight=EFFECT_WEIGHT)
        return
    diff = mine - base
    lo, hi = effect.accuracy_change
    inside = (lo is None or diff >= lo) and (hi is None or diff <= hi)
    r.add(inside, f"{when}: {mine:.4f} against your baseline's {base:.4f} ({diff:+.4f}): {effect.lesson}",
          f"{when}: {mine:.4f} against your baseline's {base:.4f} ({diff:+.4f}); expected "
          f"{effect.expected}", weight=EFFECT_WEIGHT)
    t_mine, t_base = _steady_seconds(history), _steady_seconds(baseline)
    if effect.slower and t_mine and t_base:
        r.add(True, f"an epoch took {t_mine:.2f} s against your baseline's {t_base:.2f} s "
              f"({t_mine / t_base:.1f}x); more computation per update makes epochs slower, but seconds "
              "measured while grading follow the machine's load, so they earn no points", "", weight=0)


def _pipeline_differs(baseline_model: Any, data: dict[str, Any]) -> list[str]:
    """The cells (split sizes, scaling, compile) where the student's pipeline differs from the
    lesson's, as the effect bands assume it; none when the data was not given (a unit test).

    The baseline's architecture is not the pipeline: a wrong baseline model is said as such.
    """
    if all(v is None for v in data.values()):
        return []
    return [name for name in same_as_lesson(baseline_model, **data)[1] if name != "architecture"]


def check_variant(model: Any, history: Any, baseline_model: Any, baseline_history: Any,
                  num_validation_samples: Any = None, num_test_samples: Any = None, train_data: Any = None,
                  validation_data: Any = None, test_data: Any = None, *, variant: str) -> CheckResult:
    """An exercise's run: the variant's model and learning rate, 5 epochs at batch 100, and its effect.

    The run is judged relative to the student's own pipeline and compile settings.  The effect
    (the change in validation accuracy; for larger networks the time per epoch is shown too) is
    measured against the student's own baseline run, within bands set by ``python -m mnist_ref
    study --variants all --grading-budget`` on the lesson's pipeline.  When the baseline is not the
    lesson's model trained as asked, or the pipeline differs from the lesson's (another split,
    no scaling, another optimizer or loss), that costs points in its own cell, not again here:
    the effect is then not compared.
    """
    v = VARIANTS[variant]
    r = CheckResult()
    right_model, why_model = _model_is(model, _as_spelled(model, v), baseline_model)
    r.add(right_model, f"the model has {v.change}", f"the model is not the exercise's: {why_model}", weight=2)
    ran, why_run = _ran_as_asked(history, model, baseline_history)
    r.add(ran, f"trained {EPOCHS} epochs at batch size {BATCH_SIZE}", f"this run: {why_run}")
    data = {"num_validation_samples": num_validation_samples, "num_test_samples": num_test_samples,
            "train_data": train_data, "validation_data": validation_data, "test_data": test_data}
    base_ok = _model_is(baseline_model, BASELINE)[0] and \
        _ran_as_asked(baseline_history, baseline_model, train_data=train_data)[0]
    differs = _pipeline_differs(baseline_model, data)
    if not (right_model and ran):
        r.add(False, "", "the effect cannot be judged: this run is not the one the exercise asks for "
              "(see above)", weight=EFFECT_WEIGHT)
    elif differs:
        r.add(True, "the effect is not compared: your pipeline differs from the lesson's "
              f"({', '.join(differs)}), which the expected effects assume (that costs points in its "
              "own cells)", "", weight=EFFECT_WEIGHT)
    elif not base_ok:
        r.add(True, "the effect is not compared: your baseline run is not the lesson's model trained "
              "as asked (that costs points in its own cell)", "", weight=EFFECT_WEIGHT)
    else:
        _effect_part(r, v, history, baseline_history)
    return r


def check_baseline_run(model: Any, history: Any, num_validation_samples: Any, num_test_samples: Any,
                       train_data: Any, validation_data: Any, test_data: Any,
                       checked_model: Any = None) -> CheckResult:
    """The second assignment's baseline: the lesson's model and run, its accuracy in the reference band.

    The band depends on the epochs it ran (3 when graded, 5 in JupyterLab); a pipeline that
    differs from the lesson costs points in its own cells, so then the band is not applied.  A
    compile mistake that ``checked_model`` (the notebook's ``model``, checked in its own cell)
    shares is not charged again here, nor a split of another size in the updates per epoch.
    """
    r = CheckResult()
    right_model, why_model = _model_is(model, BASELINE, checked_model)
    r.add(right_model, "the lesson's model and learning rate", f"the baseline is not the lesson's model: "
          f"{why_model}; expected train_model() with its defaults", weight=2)
    ran, why_run = _ran_as_asked(history, model, train_data=train_data)
    r.add(ran, f"trained {EPOCHS} epochs at batch size {BATCH_SIZE}", f"this run: {why_run}")
    values = history_facts(history)["history"].get("val_accuracy") or []
    if not values:
        r.add(False, "", "no validation accuracy recorded; expected validation_data in fit (train_model "
              "passes it)", weight=2)
        return r
    same, differs = same_as_lesson(model, num_validation_samples=num_validation_samples,
                                   num_test_samples=num_test_samples, train_data=train_data,
                                   validation_data=validation_data, test_data=test_data)
    band = bands.BASELINE_VAL_ACCURACY.get(len(values), bands.MAIN_VAL_ACCURACY)
    band_part(r, values[-1], band, f"the validation accuracy after {len(values)} epochs", same, differs,
              weight=2)
    return r


def _config_model(run: SavedRun) -> Variant:
    """The saved run's settings as a Variant, to check a model against."""
    return Variant("exercise10", 10, tuple(run.widths), tuple(run.activations),
                   float(run.config.get("learning_rate", math.nan)), "your exercise-10 settings")


def _weights_part(run: SavedRun, claimed: float | None) -> tuple[bool, str, str]:
    """Whether the saved weights score what the saved history says: (passed, ok, wrong).

    Scored on the student's own validation images, the weights are the run's own; then the test
    set only asks whether the validation accuracy was inflated (a network that also trained on
    its validation images scores less on the test set); a weaker network may score more there.
    """
    tested, validated = run.test_accuracy, run.validation_accuracy
    if tested is None:
        return False, "", "the saved weights do not fit the saved settings; expected the run's own weights"
    if claimed is None:
        return False, "", "the saved run records no validation accuracy"
    if validated is None:
        return False, "", ("your validation images (validation_data) could not be matched: they are not "
                           "MNIST's training images (scaled to [0, 1] or not), or they change from one pass "
                           "to the next, so the saved weights could not be scored on them; expected "
                           "validation_data to be your own fixed split of the training images (a pipeline "
                           "mistake there costs this part too)")
    if validated is not None and abs(validated - claimed) > bands.EXERCISE10_VALIDATION_TOLERANCE:
        return False, "", (f"the saved weights score {validated:.4f} on your validation images, not the "
                           f"{claimed:.4f} the saved history says; expected the weights of that run itself")
    if claimed - tested > bands.EXERCISE10_TEST_TOLERANCE:
        return False, "", (f"the saved weights score {tested:.4f} on MNIST's test set, not within "
                           f"{bands.EXERCISE10_TEST_TOLERANCE} of the saved validation accuracy "
                           f"{claimed:.4f}; expected a network trained on the training images only")
    return True, (f"the saved weights score {validated:.4f} on your validation images and {tested:.4f} on "
                  "the test set: that run's own"), ""


def check_best_run(model_best: Any, history_best: Any, best_run: Any, model_baseline: Any = None,
                   num_validation_samples: Any = None, num_test_samples: Any = None, train_data: Any = None,
                   validation_data: Any = None, test_data: Any = None, *,
                   target: float = EXERCISE10_TARGET) -> CheckResult:
    """Exercise 10: a full-size run saved in JupyterLab reaches the target, and is what these settings train.

    * the graded run of the saved settings, made by the student's own code, builds that model
      (compile mistakes shared with ``model_baseline`` are charged in their own cells);
    * the saved run's final validation accuracy reaches ``target`` (set for the lesson's
      pipeline: where the student's differs, the message says so, and this part depends on it);
    * its weights fit the settings and score what its history says on the student's validation
      images, and about as much on MNIST's test set (the grader evaluates them itself);
    * its first epoch is what the graded run of the same settings gives.
    """
    r = CheckResult()
    if not isinstance(best_run, SavedRun):
        return r.fail("no saved full-size run: run the exercise-10 cell in JupyterLab (not under "
                      "grading), which saves exercise10_run.npz beside the notebook, and submit it "
                      "with the notebook", weight=4)
    mine = _config_model(best_run)
    right_model, why = _model_is(model_best, mine, model_baseline)
    r.add(right_model, f"your code builds the saved settings' model ({mine.widths}, "
          f"{list(mine.activations)}, learning rate {mine.learning_rate:g})",
          f"the graded run of BEST does not build the saved run's model: {why}. Run the exercise-10 "
          "cell again in JupyterLab after changing BEST")
    claimed = (best_run.history.get("val_accuracy") or [None])[-1]
    data = {"num_validation_samples": num_validation_samples, "num_test_samples": num_test_samples,
            "train_data": train_data, "validation_data": validation_data, "test_data": test_data}
    differs = _pipeline_differs(model_baseline, data) if model_baseline is not None else []
    r.add(claimed is not None and claimed >= target,
          f"the saved run reached a validation accuracy of {claimed:.4f} (at least {target})"
          if claimed else "",
          f"the saved run's final validation accuracy is "
          f"{claimed if claimed is None else round(claimed, 4)}; expected at least {target}"
          + (f" (set for the lesson's pipeline; yours differs in {', '.join(differs)}, charged in "
             "those cells, and this target depends on it)" if differs else ""))
    r.add(*_weights_part(best_run, claimed))
    graded = _val_accuracy(history_best, 1)
    first = (best_run.history.get("val_accuracy") or [None])[0]
    same_start = graded is not None and first is not None and \
        abs(graded - first) <= bands.EXERCISE10_FIRST_EPOCH_TOLERANCE
    r.add(same_start, f"its first epoch ({first:.4f}) matches the graded run of the same settings "
          f"({graded:.4f})" if same_start else "",
          f"the saved run's first epoch reached {first} but the graded run of BEST reached {graded}; "
          "expected the same (same seed, same code): save the run again after your last change")
    return r
