"""Sample submissions of the second assignment (mnist_hyperparameters), made from its source notebook.

The typical mistakes sit in different exercise cells, so one notebook carries them all and
shows that each costs points in its own cell only; the other style spells the same work
differently and keeps every point.  Apply them with :func:`autograder.tools.samples.apply_edits`
and :func:`autograder.tools.samples.replace_cells`.
"""

from __future__ import annotations

from autograder.tools.samples import Edits

# mistake -> (its edit, the grade cell that must lose points for it, words its message must hold)
MISTAKES: dict[str, tuple[Edits, str, list[str]]] = {
    "wrong_width": ([("train_model(hidden_layer_size=200)", "train_model(hidden_layer_size=100)")],
                    "exercise1", ["widths are [100, 100]", "expected 200 units"]),
    "variant_not_run": ([("model_depth_3, history_depth_3 = train_model(depth=3)", "pass")],
                        "exercise2", ["`model_depth_3`", "not defined"]),
    "wrong_depth": ([("train_model(depth=5)", "train_model(depth=4)")],
                    "exercise3", ["4 hidden Dense layer(s)", "expected exactly 5"]),
    "one_activation_wrong": ([('train_model(activation="sigmoid")',
                               'train_model(activation=["sigmoid", "relu"])')],
                             "exercise4", ["activations are ['sigmoid', 'relu']", "'sigmoid' in each"]),
    "wrong_learning_rate": ([("train_model(learning_rate=0.0001)", "train_model(learning_rate=0.001)")],
                            "exercise8", ["learning rate is 0.001", "expected 0.0001"]),
}
ALL_MISTAKES: Edits = [edit for edits, _, _ in MISTAKES.values() for edit in edits]

# One pipeline mistake each, made everywhere (the baseline and every exercise run on it): mistake ->
# (its edit, the cell that charges it).  Each costs points there and, at most, in exercise 10,
# whose 0.98 target assumes the lesson's pipeline; every exercise judges its own change.
PIPELINE_MISTAKES: dict[str, tuple[Edits, str]] = {
    "split_20": ([("tf.cast(0.1 * mnist_info", "tf.cast(0.2 * mnist_info")], "validation_split_size"),
    "sgd": ([("tf.keras.optimizers.Adam(learning_rate=learning_rate)",
              "tf.keras.optimizers.SGD(learning_rate=learning_rate)")], "compile_settings"),
    "unscaled": ([("return tf.cast(image, tf.float32) / 255.0, label",
                   "return tf.cast(image, tf.float32), label")], "scaling"),
}

# The same work in another style: a functional model with separate activation layers, Adam's
# learning rate given positionally, and the exercises' settings spelled otherwise.
OTHER_STYLE: dict[str, str] = {
    "model": '''def build_model(hidden_layer_size=50, depth=2, activation="relu"):
    if isinstance(activation, str):
        activation = [activation] * depth
    inputs = tf.keras.Input(shape=(28, 28, 1))
    x = tf.keras.layers.Reshape((28 * 28,))(inputs)
    for name in activation:
        x = tf.keras.layers.Dense(hidden_layer_size)(x)
        x = tf.keras.layers.Activation(name)(x)
    outputs = tf.keras.layers.Dense(10, activation=tf.nn.softmax)(x)
    return tf.keras.Model(inputs, outputs)


def compile_model(model, learning_rate=0.001):
    model.compile(tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


model = compile_model(build_model())''',
    "ex1_run": "model_width_200, history_width_200 = train_model(200)",
    "ex3_run": 'model_depth_5, history_depth_5 = train_model(depth=5, activation="relu")',
    "ex4_run": 'model_sigmoid, history_sigmoid = train_model(activation=["sigmoid"] * 2)',
    "ex5_run": 'model_relu_tanh, history_relu_tanh = train_model(activation=("tanh", "relu"))',
    "ex8_run": "model_lr_0_0001, history_lr_0_0001 = train_model(learning_rate=1e-4)",
}
