"""Architecture and compile checks accept every equivalent spelling and reject real mistakes."""

from __future__ import annotations

import pytest
import tensorflow as tf

from autograder.checks import check_architecture, check_compile

L = tf.keras.layers


def _compiled(model, loss="sparse_categorical_crossentropy", optimizer="adam", metrics=("accuracy",)):
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


EQUIVALENT = {
    "input_then_flatten": lambda: tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Flatten(), L.Dense(50, activation="relu"),
        L.Dense(50, activation="relu"), L.Dense(10, activation="softmax")]),
    "flatten_with_input_shape": lambda: tf.keras.Sequential([
        L.Flatten(input_shape=(28, 28, 1)), L.Dense(50, "relu"), L.Dense(50, "relu"),
        L.Dense(10, "softmax")]),
    "activation_functions": lambda: tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Flatten(), L.Dense(50, activation=tf.nn.relu),
        L.Dense(50, activation=tf.keras.activations.relu), L.Dense(10, activation=tf.nn.softmax)]),
    "separate_activation_layers": lambda: tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Flatten(), L.Dense(50), L.ReLU(), L.Dense(50),
        L.Activation("relu"), L.Dense(10), L.Softmax()]),
    "reshape_instead_of_flatten": lambda: tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Reshape((784,)), L.Dense(50, "relu"), L.Dense(50, "relu"),
        L.Dense(10, "softmax")]),
    "functional_api": lambda: _functional(),
    "optimizer_and_loss_objects": lambda: tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Flatten(), L.Dense(50, "relu"), L.Dense(50, "relu"),
        L.Dense(10, "softmax")]),
}
OBJECTS = {"optimizer_and_loss_objects": dict(
    optimizer=tf.keras.optimizers.Adam(), loss=tf.keras.losses.SparseCategoricalCrossentropy(),
    metrics=(tf.keras.metrics.SparseCategoricalAccuracy(),))}


def _functional() -> tf.keras.Model:
    inputs = tf.keras.Input((28, 28, 1))
    hidden = L.Dense(50, activation="relu")(L.Flatten()(inputs))
    hidden = L.Dense(50, activation="relu")(hidden)
    return tf.keras.Model(inputs, L.Dense(10, activation="softmax")(hidden))


@pytest.mark.parametrize("spelling", list(EQUIVALENT))
def test_equivalent_spellings_of_the_lessons_model_get_full_marks(spelling):
    model = _compiled(EQUIVALENT[spelling](), **OBJECTS.get(spelling, {}))
    arch = check_architecture(model)
    assert arch.score == 1, arch.message
    assert check_compile(model).score == 1


def test_logits_output_with_a_from_logits_loss_is_accepted():
    """Dense(10) logits are equivalent when the loss is told so (from_logits=True)."""
    model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)), L.Flatten(), L.Dense(50, "relu"),
                                 L.Dense(50, "relu"), L.Dense(10)])
    _compiled(model, loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert check_architecture(model).score == 1
    assert check_compile(model).score == 1


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([L.Dense(64, "relu"), L.Dense(64, "relu"), L.Dense(10, "softmax")], "widths are [64, 64]"),
        ([L.Dense(50, "relu"), L.Dense(10, "softmax")], "1 hidden Dense layer"),
        ([L.Dense(50, "relu")] * 1 + [L.Dense(50, "relu"), L.Dense(50, "relu"), L.Dense(10, "softmax")],
         "3 hidden Dense layer"),
        ([L.Dense(50, "tanh"), L.Dense(50, "tanh"), L.Dense(10, "softmax")], "['tanh', 'tanh']"),
        ([L.Dense(50, "relu"), L.Dense(50, "relu"), L.Dense(10)], "logits"),
        ([L.Dense(50, "relu"), L.Dense(50, "relu"), L.Dense(10, "sigmoid")], "'sigmoid'"),
    ],
)
def test_wrong_width_depth_activation_or_output_is_rejected_with_the_reason(layers, words):
    model = _compiled(tf.keras.Sequential([tf.keras.Input((28, 28, 1)), L.Flatten(), *layers]))
    result = check_architecture(model)
    assert result.score < 1
    assert words in result.message, result.message


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"optimizer": "sgd"}, "the optimizer is SGD"),
        ({"optimizer": tf.keras.optimizers.Adam(learning_rate=0.01)}, "learning rate is 0.01"),
        ({"loss": "categorical_crossentropy"}, "one-hot"),
        ({"loss": "mse"}, "expected 'sparse_categorical_crossentropy'"),
        ({"metrics": ("mae",)}, "expected metrics=['accuracy']"),
        ({"loss": tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
         "already outputs softmax"),
    ],
)
def test_compile_mistakes_are_named(kwargs, words):
    model = _compiled(EQUIVALENT["input_then_flatten"](), **kwargs)
    result = check_compile(model)
    assert result.score < 1
    assert words in result.message, result.message


def test_uncompiled_model_and_non_model_get_zero_with_a_message():
    from autograder.grading import run_check

    uncompiled = EQUIVALENT["input_then_flatten"]()
    result = check_compile(uncompiled)
    assert result.score == 0 and "not compiled" in result.message
    bad = run_check(check_architecture, {"model": "a string"})
    assert bad.score == 0 and "expected a tf.keras Model" in bad.message
