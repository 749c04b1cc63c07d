"""Reference implementation of the "Deep Neural Network for MNIST Classification" lesson.

Submodules import TensorFlow lazily, so ``python -m mnist_ref prepare-data`` stays fast
when the dataset is already prepared.
"""

import os

QUIET_TF_LOG_LEVEL = "2"  # TF_CPP_MIN_LOG_LEVEL: TensorFlow's C++ errors only


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ start-up chatter off the terminal (errors still show); call before import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_TF_LOG_LEVEL)
