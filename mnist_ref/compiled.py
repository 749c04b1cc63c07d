"""The fast reference training loop: Keras's own ``train_step``, many steps per XLA-compiled call.

Same model, optimizer, loss, metrics, data, split and batches as ``model.fit``; only the loop
around the step changes.  ``fit`` pays a few hundred microseconds of Python and dispatch per
step, which dominates at batch size 1 (54,000 updates per epoch).  Here the training split
stays in memory and each call runs a chunk of steps as one compiled while-loop that gathers
its batches by index.  Runs with many updates (small batches) compile that loop with XLA: a
step then costs tens of microseconds instead of about a hundred, which outweighs XLA's second
or so of compilation.  Every input has a fixed shape (the chunk of batch indices), so XLA
compiles once per shape, not once per call.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import tensorflow as tf

from mnist_ref.data import SPLIT_SEED, MnistArrays, shuffled_indices
from mnist_ref.records import EpochRecord

DEFAULT_STEPS_PER_CALL = 1_000
XLA_FROM_UPDATES = 20_000  # ~90 us saved per update vs ~1-2 s of XLA compilation per run


def use_xla(total_updates: int) -> bool:
    """Whether XLA's per-step saving outweighs its compile time for a run of this many updates."""
    return total_updates >= XLA_FROM_UPDATES


class CompiledSteps:
    """Compiled training chunks and single-batch evaluation for one compiled Keras model."""

    def __init__(self, model: tf.keras.Model, xla: bool = True):
        if model.optimizer is None:
            raise ValueError("compile the model first (mnist_ref.model.compile_model)")
        self.model = model
        self._build(model)

        def train_chunk(x: tf.Tensor, y: tf.Tensor, batches: tf.Tensor) -> tf.Tensor:
            def step(i):
                rows = batches[i]
                model.train_step((tf.gather(x, rows), tf.gather(y, rows)))
                return (i + 1,)

            (done,) = tf.while_loop(lambda i: i < tf.shape(batches)[0], step, (tf.constant(0),))
            return done

        def test_batch(x: tf.Tensor, y: tf.Tensor) -> dict[str, tf.Tensor]:
            return model.test_step((x, y))

        # Closures, not bound methods: TensorFlow then counts each model's (few) traces apart.
        self._train = tf.function(train_chunk, jit_compile=xla)
        self._test = tf.function(test_batch)  # one step per epoch: not worth an XLA compile

    @staticmethod
    def _build(model: tf.keras.Model) -> None:
        """Create optimizer and metric variables now: XLA cannot create them inside its loop."""
        model.optimizer.build(model.trainable_variables)
        zeros = tf.zeros((1, *model.input_shape[1:]))
        model.compute_metrics(zeros, tf.zeros((1,), tf.int64), model(zeros), sample_weight=None)
        model.reset_metrics()

    def train_chunk(self, x: tf.Tensor, y: tf.Tensor, batches: tf.Tensor) -> int:
        """One optimizer update per row of ``batches`` (indices into x, y); returns the count."""
        with _expected_retracing():
            return int(self._train(x, y, batches))

    def evaluate(self, x: tf.Tensor, y: tf.Tensor) -> tuple[float, float]:
        """(loss, accuracy) over one batch, as ``model.evaluate`` reports them; resets metrics."""
        self.model.reset_metrics()
        with _expected_retracing():
            logs = self._test(x, y)
        return float(logs["loss"]), float(logs["accuracy"])


@contextmanager
def _expected_retracing() -> Iterator[None]:
    """Mute TensorFlow's "triggered tf.function retracing" warning: each new model traces anew."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def epoch_chunks(order: tf.Tensor, batch_size: int, steps_per_call: int) -> Iterator[tf.Tensor]:
    """Split one epoch's row order into (steps, batch_size) chunks, then the short last batch."""
    num_rows = int(order.shape[0])
    full = num_rows // batch_size
    batches = tf.reshape(order[: full * batch_size], (full, batch_size))
    for start in range(0, full, steps_per_call):
        yield batches[start : start + steps_per_call]
    if num_rows % batch_size:
        yield tf.reshape(order[full * batch_size :], (1, -1))


def fit_compiled(
    model: tf.keras.Model,
    arrays: MnistArrays,
    batch_size: int,
    epochs: int,
    seed: int = SPLIT_SEED,
    steps_per_call: int = DEFAULT_STEPS_PER_CALL,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_updates: Callable[[int], None] | None = None,
    xla: bool | None = None,
) -> tuple[list[EpochRecord], CompiledSteps]:
    """Train like ``model.fit(train, epochs, validation_data=validation)``, much faster on CPU.

    Each epoch reshuffles the training rows with the lesson's 10,000-element buffer and
    validates on the whole validation split as one batch; records match fit's logs.  ``xla``
    None decides by the run's number of updates (:func:`use_xla`).
    """
    if xla is None:
        xla = use_xla(epochs * math.ceil(arrays.num_train / batch_size))
    steps = CompiledSteps(model, xla)
    orders = shuffled_indices(arrays.num_train, seed).batch(arrays.num_train)
    records: list[EpochRecord] = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.reset_metrics()
        updates = 0
        for chunk in epoch_chunks(next(iter(orders)), batch_size, max(1, steps_per_call)):
            done = steps.train_chunk(arrays.x_train, arrays.y_train, chunk)
            updates += done
            if on_updates:
                on_updates(done)
        logs = model.get_metrics_result()
        val_loss, val_accuracy = steps.evaluate(arrays.x_validation, arrays.y_validation)
        record = EpochRecord(
            epoch=epoch,
            seconds=time.perf_counter() - start,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            updates=updates,
        )
        records.append(record)
        if on_epoch:
            on_epoch(record)
    return records, steps
