"""Autograder for the MNIST batch-size assignment.

Grade cells call :func:`autograder.grading.grade` with a small, named check function from
:mod:`autograder.checks`; the commands in :mod:`autograder.__main__` grade whole notebooks
through nbgrader's own pipeline.
"""
