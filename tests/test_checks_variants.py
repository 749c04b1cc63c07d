"""The hyper-parameter exercises' checks on hand-made models and histories (no training).

Each variant's check: the right model and learning rate, the run as asked, and the effect
against the student's own baseline within the bands; a mistake costs only its own cell.
Exercise 10's check: a saved full-size run, judged on its claim, its weights and its first epoch.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from autograder.checks import check_best_run, check_variant
from autograder.checks.bands import VARIANT_EFFECTS
from autograder.evidence.records import DatasetEvidence, SavedRun
from mnist_ref.lesson import BASELINE, VARIANTS, Variant

L = tf.keras.layers


def _model(widths, activations, learning_rate=0.001) -> tf.keras.Model:
    layers = [tf.keras.Input((28, 28, 1)), L.Flatten()]
    layers += [L.Dense(w, activation=a) for w, a in zip(widths, activations, strict=True)]
    model = tf.keras.Sequential([*layers, L.Dense(10, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _of(variant: Variant) -> tf.keras.Model:
    return _model(variant.widths, variant.activations, variant.learning_rate)


def _history(val: list[float], seconds: float = 1.0, steps: int = 540, epochs: int = 5) -> SimpleNamespace:
    return SimpleNamespace(params={"epochs": epochs, "steps": steps},
                           history={"val_accuracy": val,
                                    "seconds": [seconds * 3] + [seconds] * (len(val) - 1),
                                    "updates": [float(steps)] * len(val)})


BASE_VAL = [0.94, 0.955, 0.962, 0.966, 0.970]


def _typical(name: str) -> SimpleNamespace:
    """A run showing the effect the lesson describes, in the middle of its band."""
    effect = VARIANT_EFFECTS[name]
    lo, hi = effect.accuracy_change
    if lo is not None and hi is not None:
        shift = (lo + hi) / 2
    else:
        shift = lo + 0.01 if lo is not None else hi - 0.02
    return _history([v + shift for v in BASE_VAL], seconds=2.0 if effect.slower else 1.0)


@pytest.fixture(scope="module")
def baseline() -> dict:
    return {"baseline_model": _of(BASELINE), "baseline_history": _history(BASE_VAL)}


@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "baseline"])
def test_each_variant_run_as_the_exercise_asks_earns_full_marks(name, baseline):
    result = check_variant(_of(VARIANTS[name]), _typical(name), **baseline, variant=name)
    assert result.score == 1, result.message


def test_exercise_5_accepts_tanh_then_relu_too(baseline):
    result = check_variant(_model((50, 50), ("tanh", "relu")), _typical("relu_tanh"), **baseline,
                           variant="relu_tanh")
    assert result.score == 1, result.message


@pytest.mark.parametrize("mistake, model", [
    ("wrong width", lambda: _model((100, 100), ("relu", "relu"))),
    ("wrong depth", lambda: _model((200, 200, 200), ("relu",) * 3)),
    ("wrong activation in one layer", lambda: _model((200, 200), ("relu", "sigmoid"))),
    ("wrong learning rate", lambda: _model((200, 200), ("relu", "relu"), 0.01)),
])
def test_a_wrong_model_loses_the_model_and_the_effect(mistake, model, baseline):
    result = check_variant(model(), _typical("width_200"), **baseline, variant="width_200")
    assert result.points(3) == 0.5, (mistake, result.message)  # only "trained as asked" is left
    assert "not the exercise's" in result.message


@pytest.mark.parametrize("name", ["width_200", "lr_0.0001"])
def test_a_history_of_another_models_training_earns_no_run_and_no_effect(name, baseline):
    """The baseline's History (its fit trained the baseline's weights) beside a fresh exercise model."""
    copied = _typical(name)
    copied.model = baseline["baseline_model"]
    fresh = check_variant(_of(VARIANTS[name]), copied, **baseline, variant=name)
    undone = check_variant(_of(VARIANTS[name]), None, **baseline, variant=name)
    assert fresh.score == undone.score == 1 / 3  # the model part only: the run was not this model's
    assert "not the record of this model's training" in fresh.message
    own = _typical(name)
    own.model = model = _of(VARIANTS[name])
    assert check_variant(model, own, **baseline, variant=name).score == 1  # fit's own model: all of it


def test_a_run_of_other_epochs_or_batch_size_loses_its_part_and_the_effect(baseline):
    run = _history(BASE_VAL[:2], steps=54_000, epochs=2)
    result = check_variant(_of(VARIANTS["sigmoid"]), run, **baseline, variant="sigmoid")
    assert result.points(3) == 1.0 and "expected 5 epochs at batch size 100" in result.message


def test_an_effect_outside_its_band_says_what_was_expected(baseline):
    same_as_baseline = _history(BASE_VAL)
    result = check_variant(_of(VARIANTS["lr_0.0001"]), same_as_baseline, **baseline, variant="lr_0.0001")
    assert result.points(3) == 1.5
    assert VARIANT_EFFECTS["lr_0.0001"].expected in result.message


def test_time_per_epoch_is_shown_for_larger_networks_but_never_costs_points(baseline):
    fast = _typical("width_200")
    fast.history["seconds"] = [3.0, 1.0, 1.0, 1.0, 1.0]  # a loaded machine: no slower than the baseline
    result = check_variant(_of(VARIANTS["width_200"]), fast, **baseline, variant="width_200")
    assert result.score == 1 and "1.0x" in result.message and "earn no points" in result.message


def test_a_wrong_baseline_is_not_charged_again_in_the_variant_cells():
    wrong_baseline = {"baseline_model": _model((64, 64), ("relu", "relu")),
                      "baseline_history": _history(BASE_VAL)}
    result = check_variant(_of(VARIANTS["sigmoid"]), _history([0.5] * 5), **wrong_baseline, variant="sigmoid")
    assert result.score == 1 and "not compared" in result.message


def test_keyword_only_settings_never_come_from_a_notebook_variable():
    from autograder.grading import run_check

    namespace = {"model": _of(BASELINE), "widths": (7, 7), "learning_rate": 0.5}
    from autograder.checks import check_architecture, check_compile

    assert run_check(check_architecture, namespace).score == 1
    assert run_check(check_compile, namespace).score == 1


# ------------------------------------------------------------------ exercise 10

BEST = {"hidden_layer_size": 64, "depth": 2, "activation": "relu", "learning_rate": 0.001,
        "batch_size": 100, "epochs": 20}


def _saved(val_last=0.986, first=0.95, test=0.984, config=BEST, validated=0.986) -> SavedRun:
    model = _model((64, 64), ("relu", "relu"))
    return SavedRun(dict(config), {"val_accuracy": [first] + [0.98] * 18 + [val_last]},
                    [np.asarray(w) for w in model.get_weights()], test, validated)


@pytest.fixture(scope="module")
def graded_best() -> dict:
    return {"model_best": _model((64, 64), ("relu", "relu")), "history_best": _history([0.95], epochs=20)}


def test_a_saved_run_that_reaches_the_target_earns_full_marks(graded_best):
    assert check_best_run(**graded_best, best_run=_saved()).score == 1


@pytest.mark.parametrize("saved, lost", [
    (_saved(val_last=0.975, validated=0.975), "expected at least 0.98"),
    (_saved(validated=0.975), "score 0.9750 on your validation images, not the 0.9860"),
    (_saved(test=0.95), "not within 0.01"),
    (_saved(test=None), "do not fit the saved settings"),
    (_saved(first=0.90), "expected the same (same seed, same code)"),
    (_saved(config={**BEST, "hidden_layer_size": 128}), "does not build the saved run's model"),
])
def test_each_part_of_exercise_10_fails_alone(saved, lost, graded_best):
    result = check_best_run(**graded_best, best_run=saved)
    assert result.points(4) == 3 and lost in result.message, result.message


def test_without_the_validation_images_the_weights_are_not_taken_on_trust_and_it_says_why(graded_best):
    result = check_best_run(**graded_best, best_run=_saved(validated=None))
    assert result.score == 0.75 and "could not be matched" in result.message


def test_no_saved_run_earns_nothing_and_says_how_to_save_it(graded_best):
    result = check_best_run(**graded_best, best_run=None)
    assert result.score == 0 and "exercise10_run.npz" in result.message


def _sgd(variant: Variant) -> tf.keras.Model:
    model = _of(variant)
    model.compile(optimizer=tf.keras.optimizers.SGD(variant.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("name", ["width_200", "lr_0.0001"])
def test_a_pipeline_mistake_made_in_the_baseline_too_is_not_charged_again_in_the_exercise(name):
    """SGD everywhere, or a 20% validation split everywhere (480 updates per epoch): charged elsewhere."""
    sgd = check_variant(_sgd(VARIANTS[name]), _typical(name), _sgd(BASELINE), _history(BASE_VAL),
                        variant=name)
    assert sgd.score == 1, sgd.message  # the effect is "not compared" (the baseline is not the lesson's)
    split = check_variant(_of(VARIANTS[name]), _history(BASE_VAL, steps=480),
                          _of(BASELINE), _history(BASE_VAL, steps=480), variant=name)
    assert [p.passed for p in split.parts][:2] == [True, True], split.message


def test_a_mistake_made_only_in_the_exercise_still_costs_its_part():
    alone = check_variant(_sgd(VARIANTS["width_200"]), _typical("width_200"), _of(BASELINE),
                          _history(BASE_VAL), variant="width_200")
    assert "the optimizer is SGD" in alone.message and alone.score < 1
    wrong_rate = _sgd(VARIANTS["lr_0.0001"])
    wrong_rate.compile(optimizer=tf.keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    result = check_variant(wrong_rate, _typical("lr_0.0001"), _sgd(BASELINE), _history(BASE_VAL),
                           variant="lr_0.0001")
    assert "the learning rate is 0.01; expected 0.0001" in result.message
    short = check_variant(_of(VARIANTS["width_200"]), _history(BASE_VAL, steps=480), _of(BASELINE),
                          _history(BASE_VAL), variant="width_200")
    assert "expected 5 epochs at batch size 100 (540 updates per epoch" in short.message


# ------------------------------------------------------------------ a pipeline mistake costs points once

def _pipeline(top: float = 1.0, n_validation: int = 6_000) -> dict:
    """The data arguments the grade cells pass (the judge's dataset evidence): pixels up to ``top``."""
    def data(name: str, n: int) -> DatasetEvidence:
        return DatasetEvidence(name, {"num_examples": n, "image_dtype": "float32", "min": 0.0, "max": top})
    return {"num_validation_samples": n_validation, "num_test_samples": 10_000,
            "train_data": data("train_data", 60_000 - n_validation),
            "validation_data": data("validation_data", n_validation), "test_data": data("test_data", 10_000)}


def test_on_the_lessons_pipeline_the_effect_is_judged_as_before():
    off_band = _history([v - 0.05 for v in BASE_VAL])  # depth 3 far below the baseline
    result = check_variant(_of(VARIANTS["depth_3"]), off_band, **_of_baseline(), **_pipeline(),
                           variant="depth_3")
    assert result.points(3) == 1.5 and "expected within 0.01" in result.message


@pytest.mark.parametrize("pipeline, where", [(_pipeline(top=255.0), "scaling"),
                                             (_pipeline(n_validation=12_000), "split_sizes")])
def test_on_another_pipeline_the_effect_is_not_compared_and_says_why(pipeline, where):
    """Unscaled pixels or a 20% split are charged in their own cells; the bands assume the lesson's."""
    steps = pipeline["train_data"].facts["num_examples"] // 100
    off_band, baseline = _history([v - 0.05 for v in BASE_VAL], steps=steps), _history(BASE_VAL, steps=steps)
    result = check_variant(_of(VARIANTS["depth_3"]), off_band, _of(BASELINE), baseline, **pipeline,
                           variant="depth_3")
    assert result.score == 1 and f"your pipeline differs from the lesson's ({where})" in result.message


def _of_baseline() -> dict:
    return {"baseline_model": _of(BASELINE), "baseline_history": _history(BASE_VAL)}


def test_the_baseline_is_not_charged_for_a_compile_mistake_its_own_cell_charges():
    from autograder.checks import check_baseline_run

    run = _history(BASE_VAL[:3])
    sgd = check_baseline_run(_sgd(BASELINE), run, **_pipeline(), checked_model=_sgd(BASELINE))
    assert sgd.parts[0].passed, sgd.message
    alone = check_baseline_run(_sgd(BASELINE), run, **_pipeline(), checked_model=_of(BASELINE))
    assert not alone.parts[0].passed and "the optimizer is SGD" in alone.message
    split = check_baseline_run(_of(BASELINE), _history(BASE_VAL[:3], steps=480),
                               **_pipeline(n_validation=12_000), checked_model=_of(BASELINE))
    assert split.parts[1].passed and "not compared" in split.message, split.message


def test_exercise_10_judges_the_saved_settings_relative_to_the_students_compile_and_pipeline(graded_best):
    sgd_best = {"model_best": _sgd(Variant("x", 10, (64, 64), ("relu", "relu"), 0.001, "")),
                "history_best": graded_best["history_best"]}
    shared = check_best_run(**sgd_best, best_run=_saved(), model_baseline=_sgd(BASELINE), **_pipeline())
    assert shared.score == 1, shared.message
    low = check_best_run(**graded_best, best_run=_saved(val_last=0.975, validated=0.975, test=0.975),
                         model_baseline=_of(BASELINE), **_pipeline(top=255.0))
    assert low.points(4) == 3 and "yours differs in scaling" in low.message


def test_a_weaker_network_that_scores_more_on_the_test_set_is_not_suspect(graded_best):
    """Scored on the student's validation images, the weights are the run's own; only inflation is suspect."""
    assert check_best_run(**graded_best, best_run=_saved(test=0.999)).score == 1
    assert check_best_run(**graded_best, best_run=_saved(test=0.95)).points(4) == 3


def test_only_the_last_epoch_which_the_judge_re_scores_decides_an_effect(baseline):
    """A sigmoid run whose first epoch was nudged down (the judge re-scores only the last) earns no effect."""
    nudged = _history([BASE_VAL[0] - 0.05, *BASE_VAL[1:]])
    result = check_variant(_of(VARIANTS["sigmoid"]), nudged, **baseline, variant="sigmoid")
    assert result.points(3) == 1.5 and "at least 0.01 below" in result.message, result.message


def test_a_wrong_baseline_model_on_the_lessons_pipeline_is_said_as_such():
    wrong_baseline = _model((100, 100), ("relu", "relu"))
    result = check_variant(_of(VARIANTS["depth_3"]), _typical("depth_3"), wrong_baseline, _history(BASE_VAL),
                           **_pipeline(), variant="depth_3")
    assert result.score == 1 and "your baseline run is not the lesson's model" in result.message
    assert "pipeline differs" not in result.message
