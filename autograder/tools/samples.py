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
