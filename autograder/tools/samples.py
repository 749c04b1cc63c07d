"""Sample submissions made from the source notebook: the solution, typical mistakes, a blank one.

Each mistake is a small edit of the solution, the kind students really make; the demo grades
a few of them and the tests check that each one costs points in the right cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

Edits = list[tuple[str, str]]

MISTAKE_EDITS: dict[str, Edits] = {
    "validation_20_percent": [('0.1 * mnist_info.splits["train"]', '0.2 * mnist_info.splits["train"]')],
    "no_scaling": [("    image /= 255.0\n", "")],
    "width_64": [("hidden_layer_size = 50", "hidden_layer_size = 64")],
    "sigmoid": [('Dense(hidden_layer_size, activation="relu"),\n        tf.keras.layers.Dense('
                 'hidden_layer_size, activation="relu")',
                 'Dense(hidden_layer_size, activation="sigmoid"),\n        tf.keras.layers.Dense('
                 'hidden_layer_size, activation="sigmoid")')],
    "sgd": [('optimizer="adam"', 'optimizer="sgd"')],
    "categorical_crossentropy": [('loss="sparse_categorical_crossentropy"',
                                  'loss="categorical_crossentropy"')],
    "logits_without_softmax": [('tf.keras.layers.Dense(output_size, activation="softmax")',
                                "tf.keras.layers.Dense(output_size)")],
    "leaky_split": [("dataset.shuffle(60_000, seed=SEED, reshuffle_each_iteration=False)",
                     "dataset.shuffle(BUFFER_SIZE)")],
    "exercise_batch_left_at_100": [("BATCH_SIZE_LARGE = 10_000", "BATCH_SIZE_LARGE = 100")],
    "wrong_updates_per_epoch": [("return math.ceil(num_train / batch_size)",
                                 "return num_train // batch_size")],
}

# A typical half-right submission: the pipeline leaks, the network is too wide, one exercise
# run kept the old batch size and the answers are guesses.
HALF_RIGHT: Edits = [
    *MISTAKE_EDITS["leaky_split"],
    *MISTAKE_EDITS["width_64"],
    *MISTAKE_EDITS["exercise_batch_left_at_100"],
    *MISTAKE_EDITS["wrong_updates_per_epoch"],
    ("highest_val_accuracy_batch = 100", "highest_val_accuracy_batch = 1"),
]


def apply_edits(notebook: Path, edits: Edits, out: Path) -> Path:
    """Write ``notebook`` with each (old, new) edit applied; each ``old`` must occur in one cell."""
    nb = nbformat.read(notebook, as_version=4)
    for old, new in edits:
        hits = [c for c in nb.cells if old in c.source]
        if len(hits) != 1:
            raise ValueError(f"edit target {old!r} found in {len(hits)} cells, expected 1")
        hits[0].source = hits[0].source.replace(old, new, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def cell_sources(notebook: Path) -> dict[str, str]:
    """grade_id -> source of every cell of ``notebook`` that has one."""
    nb = nbformat.read(notebook, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if "nbgrader" in c.metadata}


def replace_cells(notebook: Path, sources: dict[str, str], out: Path) -> Path:
    """Write ``notebook`` with the cells named by grade_id given new sources (e.g. the release's stub)."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
            found.add(grade_id)
    if found != set(sources):
        raise ValueError(f"no cells {sorted(set(sources) - found)} in {notebook}")
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


# Correct work in other styles: whole cells as a student might write them.  Each must keep
# every point (the lesson's own code loses only the leak's points).
RESHAPE_ACTIVATION_LAYERS_OBJECTS = {
    "model": '''def build_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Reshape((784,), input_shape=(28, 28, 1)),
        tf.keras.layers.Dense(50),
        tf.keras.layers.Activation("relu"),
        tf.keras.layers.Dense(50),
        tf.keras.layers.Activation("relu"),
        tf.keras.layers.Dense(10),
        tf.keras.layers.Softmax(),
    ])
    return model


def compile_model(model):
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


model = compile_model(build_model())
''',
    "split": '''def split_train_validation(dataset, num_validation_samples):
    shuffled = dataset.shuffle(60_000, seed=7, reshuffle_each_iteration=False)  # another seed
    validation = shuffled.take(num_validation_samples)
    train = shuffled.skip(num_validation_samples)
    return train, validation
''',
    "make_datasets": '''BUFFER_SIZE = 10_000
scaled_train_and_validation = mnist_train.map(scale).cache()
scaled_test = mnist_test.map(scale).cache()


def make_datasets(batch_size):
    train, validation = split_train_validation(scaled_train_and_validation, num_validation_samples)
    train_data = train.shuffle(BUFFER_SIZE).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    validation_data = validation.batch(6_000).prefetch(tf.data.AUTOTUNE)
    test_data = scaled_test.batch(10_000).prefetch(tf.data.AUTOTUNE)
    return train_data, validation_data, test_data


BATCH_SIZE = 100
train_data, validation_data, test_data = make_datasets(BATCH_SIZE)
''',
    "updates_solution": '''def updates_per_epoch(batch_size, num_train=54_000):
    return -(-num_train // batch_size)  # ceiling division with //
''',
}

FUNCTIONAL_CONVERT_IMAGE_DTYPE = {
    "sizes_and_scale": '''num_validation_samples = mnist_info.splits["train"].num_examples // 10
num_test_samples = mnist_info.splits["test"].num_examples


def scale(image, label):
    return tf.image.convert_image_dtype(image, tf.float32), label
''',
    "make_datasets": '''BUFFER_SIZE = 10_000
scaled_train_and_validation = mnist_train.map(scale, num_parallel_calls=tf.data.AUTOTUNE).cache()
scaled_test = mnist_test.map(scale, num_parallel_calls=tf.data.AUTOTUNE).cache()


def make_datasets(batch_size):
    train, validation = split_train_validation(scaled_train_and_validation, num_validation_samples)
    return (train.shuffle(BUFFER_SIZE, seed=SEED).batch(batch_size),
            validation.batch(num_validation_samples), scaled_test.batch(num_test_samples))


BATCH_SIZE = 100
train_data, validation_data, test_data = make_datasets(BATCH_SIZE)
''',
    "model": '''def build_model():
    inputs = tf.keras.Input(shape=(28, 28, 1))
    x = tf.keras.layers.Flatten()(inputs)
    x = tf.keras.layers.Dense(50, activation=tf.nn.relu)(x)
    x = tf.keras.layers.Dense(50, activation=tf.nn.relu)(x)
    outputs = tf.keras.layers.Dense(10, activation=tf.nn.softmax)(x)
    return tf.keras.Model(inputs, outputs)


def compile_model(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


model = compile_model(build_model())
''',
}

# The lesson's own code, as it stands, in the notebook's functions: right but for its leak.
LESSON_AS_IT_STANDS = {
    "sizes_and_scale": '''num_validation_samples = 0.1 * mnist_info.splits['train'].num_examples
num_validation_samples = tf.cast(num_validation_samples, tf.int64)
num_test_samples = mnist_info.splits['test'].num_examples
num_test_samples = tf.cast(num_test_samples, tf.int64)


def scale(image, label):
    image = tf.cast(image, tf.float32)
    image /= 255.
    return image, label
''',
    "split": '''def split_train_validation(dataset, num_validation_samples):
    shuffled_train_and_validation_data = dataset.shuffle(BUFFER_SIZE)
    validation_data = shuffled_train_and_validation_data.take(num_validation_samples)
    train_data = shuffled_train_and_validation_data.skip(num_validation_samples)
    return train_data, validation_data
''',
    "make_datasets": '''BUFFER_SIZE = 10000
scaled_train_and_validation_data = mnist_train.map(scale)
scaled_test_data = mnist_test.map(scale)


def make_datasets(batch_size):
    train_data, validation_data = split_train_validation(scaled_train_and_validation_data,
                                                         num_validation_samples)
    train_data = train_data.batch(batch_size)
    validation_data = validation_data.batch(num_validation_samples)
    return train_data, validation_data, scaled_test_data.batch(num_test_samples)


BATCH_SIZE = 100
train_data, validation_data, test_data = make_datasets(BATCH_SIZE)
''',
    "model": '''def build_model():
    input_size = 784
    output_size = 10
    hidden_layer_size = 50
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28, 1)),
        tf.keras.layers.Dense(hidden_layer_size, activation='relu'),
        tf.keras.layers.Dense(hidden_layer_size, activation='relu'),
        tf.keras.layers.Dense(output_size, activation='softmax'),
    ])
    return model


def compile_model(model):
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    return model


model = compile_model(build_model())
''',
}

STYLES: dict[str, dict[str, str]] = {
    "reshape_activation_layers_objects": RESHAPE_ACTIVATION_LAYERS_OBJECTS,
    "functional_convert_image_dtype": FUNCTIONAL_CONVERT_IMAGE_DTYPE,
    "lesson_as_it_stands": LESSON_AS_IT_STANDS,
}
