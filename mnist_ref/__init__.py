"""Reference implementation of the "Deep Neural Network for MNIST Classification" lesson.

Submodules import TensorFlow lazily, so ``python -m mnist_ref prepare-data`` stays fast
when the dataset is already prepared.
"""
