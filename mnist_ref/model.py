"""The lesson's model: Flatten -> Dense(50, relu) x 2 -> Dense(10, softmax), its compile step, and
the hyper-parameter exercises' variants of it (:data:`mnist_ref.lesson.VARIANTS`)."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from mnist_ref import lesson

INPUT_SHAPE = lesson.IMAGE_SHAPE
NUM_CLASSES = lesson.NUM_CLASSES
HIDDEN_UNITS = lesson.HIDDEN_UNITS
DEPTH = lesson.HIDDEN_LAYERS


def build_model(
    hidden_units: int | Sequence[int] = HIDDEN_UNITS,
    depth: int = DEPTH,
    activation: str | Sequence[str] = lesson.HIDDEN_ACTIVATION,
    output_activation: str = lesson.OUTPUT_ACTIVATION,
) -> tf.keras.Sequential:
    """A fully connected classifier; width, depth and activations vary in the lesson's exercises.

    ``hidden_units`` and ``activation`` take one value for every hidden layer or one per layer.
    The default has 42,310 parameters.
    """
    widths = [hidden_units] * depth if isinstance(hidden_units, int) else list(hidden_units)
    activations = [activation] * len(widths) if isinstance(activation, str) else list(activation)
    if len(activations) != len(widths):
        raise ValueError(f"{len(widths)} hidden layers but {len(activations)} activations")
    layers: list[tf.keras.layers.Layer] = [tf.keras.Input(shape=INPUT_SHAPE), tf.keras.layers.Flatten()]
    layers += [tf.keras.layers.Dense(w, activation=a) for w, a in zip(widths, activations, strict=True)]
    layers.append(tf.keras.layers.Dense(NUM_CLASSES, activation=output_activation))
    return tf.keras.Sequential(layers, name="mnist_dnn")


def compile_model(
    model: tf.keras.Model,
    steps_per_execution: int = 1,
    learning_rate: float = lesson.ADAM_DEFAULT_LEARNING_RATE,
) -> tf.keras.Model:
    """Adam, sparse categorical cross-entropy, accuracy: as the lesson (exercises 8-9 vary the rate).

    At the default learning rate the optimizer is the string ``"adam"``, exactly as the lesson
    writes it.  ``steps_per_execution`` only changes how many steps run per call into
    TensorFlow, not the mathematics; the reference raises it for speed.
    """
    default = learning_rate == lesson.ADAM_DEFAULT_LEARNING_RATE
    model.compile(
        optimizer="adam" if default else tf.keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def build_variant(variant: lesson.Variant, steps_per_execution: int = 1) -> tf.keras.Model:
    """One hyper-parameter exercise's model, built and compiled: its widths, activations and rate."""
    model = build_model(variant.widths, activation=variant.activations)
    return compile_model(model, steps_per_execution, variant.learning_rate)


def model_with_weights(
    widths: Sequence[int], activations: Sequence[str], weights: Sequence[object]
) -> tf.keras.Sequential:
    """The fully connected model of these hidden widths and activations, holding ``weights``.

    Raises ValueError when the weights do not fit that architecture (another run's weights);
    the shapes are compared before anything is built, so settings that name a huge network
    without its weights cost nothing.
    """
    sizes = [lesson.NUM_PIXELS, *(int(w) for w in widths), NUM_CLASSES]
    expected = [shape for a, b in zip(sizes, sizes[1:], strict=False) for shape in ((a, b), (b,))]
    given = [tuple(getattr(w, "shape", ())) for w in weights]
    if given != expected or len(activations) != len(widths):
        raise ValueError(f"weights of shapes {given[:8]} do not fit this model's {expected[:8]}")
    model = build_model(list(widths), len(widths), list(activations))
    model.set_weights(list(weights))
    return model
