"""The reference model: the lesson's architecture, 42,310 parameters, and its compile settings."""

from __future__ import annotations

import pytest
import tensorflow as tf

from mnist_ref.model import build_model, compile_model


def test_default_model_has_the_lessons_layers_and_42310_parameters():
    """Flatten(28x28x1) -> Dense(50, relu) -> Dense(50, relu) -> Dense(10, softmax)."""
    model = build_model()
    assert model.count_params() == 42_310
    assert model.input_shape == (None, 28, 28, 1)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dense", "Dense"]
    dense = model.layers[1:]
    assert [d.units for d in dense] == [50, 50, 10]
    assert [d.activation.__name__ for d in dense] == ["relu", "relu", "softmax"]


@pytest.mark.parametrize(
    ("kwargs", "params"),
    [
        ({"hidden_units": 200}, 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10),
        ({"depth": 3}, 42_310 + 50 * 50 + 50),
        ({"hidden_units": [64, 32], "activation": ["tanh", "sigmoid"]},
         784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10),
    ],
)
def test_width_depth_and_activations_are_parameters(kwargs, params):
    """The lesson's other exercises vary width, depth and activations."""
    model = build_model(**kwargs)
    assert model.count_params() == params
    if "activation" in kwargs:
        assert [d.activation.__name__ for d in model.layers[1:3]] == kwargs["activation"]


def test_mismatched_activation_list_is_rejected():
    with pytest.raises(ValueError, match="2 hidden layers but 3 activations"):
        build_model(activation=["relu", "relu", "relu"])


def test_compile_uses_adam_default_lr_sparse_crossentropy_and_accuracy():
    """adam at Keras's default 0.001, sparse_categorical_crossentropy, accuracy."""
    model = compile_model(build_model())
    assert isinstance(model.optimizer, tf.keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert model.loss == "sparse_categorical_crossentropy"
    model.evaluate(tf.zeros((2, 28, 28, 1)), tf.constant([0, 1]), verbose=0)
    assert "accuracy" in [m.name for m in model.metrics] + list(model.get_metrics_result())
