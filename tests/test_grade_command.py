"""`python -m autograder grade`: one JSON object, exit 0 whatever the score; non-zero if it cannot grade."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RELEASE_NOTEBOOK, run_module


@pytest.mark.slow
@pytest.mark.usefixtures("prepared_mnist")
def test_grade_json_on_the_blank_release_is_one_object_with_zero_points():
    proc = run_module("autograder", "grade", str(RELEASE_NOTEBOOK), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert set(report) == {"score", "max_score", "cells"}
    assert report["score"] == 0 and report["max_score"] == 27
    for cell in report["cells"]:
        assert set(cell) == {"grade_id", "points", "max_points", "message"}
        assert isinstance(cell["points"], float) and cell["points"] == 0
    assert [c["grade_id"] for c in report["cells"]][:2] == ["validation_split_size", "scaling"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "no such notebook file"), ("{not json", "not a readable Jupyter notebook"),
     ("", "not a readable Jupyter notebook")],
)
def test_grade_fails_with_a_one_line_reason_when_it_cannot_grade(tmp_path, content, reason):
    path = tmp_path / "submission.ipynb"
    if content is not None:
        path.write_text(content)
    proc = run_module("autograder", "grade", str(path), "--json")
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]
