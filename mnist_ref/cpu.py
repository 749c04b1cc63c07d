"""TensorFlow thread settings for a small CPU: one thread per pool suits this tiny model best."""

from __future__ import annotations

import tensorflow as tf


def configure_threads(intra_op: int | None = 1, inter_op: int | None = 1) -> bool:
    """Size TensorFlow's thread pools before its first op; False if TensorFlow already started.

    A step of this model is a few small matrix products, so on two cores extra threads mostly
    add hand-over cost; the measurements are in benchmarks/README.md.
    """
    try:
        if intra_op:
            tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        if inter_op:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:
        return False
    return True
