"""The judge: a history its own model cannot reproduce is refused; cells are scored like nbgrader."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from autograder.evidence import MissingEvidence
from autograder.judge import run_cell, verify_histories


@pytest.mark.usefixtures("prepared_mnist")
def test_a_history_its_model_cannot_reproduce_is_refused_and_an_honest_one_kept():
    """An untrained model scores about 0.1: claiming 0.97 is forged, claiming its real score is not."""
    from mnist_ref.model import build_model

    untrained = build_model()
    namespace = {
        "history_forged": SimpleNamespace(params={}, history={"val_accuracy": [0.5, 0.97]}),
        "history_forged.model": untrained,
        "history_honest": SimpleNamespace(params={}, history={"val_accuracy": [0.10]}),
        "history_honest.model": untrained,
    }
    verify_histories(namespace)
    assert isinstance(namespace["history_forged"], MissingEvidence)
    assert "does not match the model it trained" in namespace["history_forged"].reason
    assert not isinstance(namespace["history_honest"], MissingEvidence)
    assert not any(key.endswith(".model") for key in namespace)


def test_cells_score_like_nbgrader_error_number_or_full():
    """An error gives 0 with its reason; a number is the score (capped); no value is full credit."""
    shared: dict = {"__builtins__": __builtins__}
    assert run_cell("x = 1\nraise AssertionError('expected 6,000')", shared, 2) == \
        (0.0, "AssertionError: expected 6,000")
    assert run_cell("print('half')\n1.5", shared, 2) == (1.5, "half")
    assert run_cell("99", shared, 2)[0] == 2.0
    assert run_cell("y = x + 1", shared, 2)[0] == 2.0 and shared["y"] == 2  # names carry over
