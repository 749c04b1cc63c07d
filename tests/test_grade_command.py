"""`python -m autograder grade`: one JSON object, exit 0 whatever the score; non-zero if it cannot grade."""

from __future__ import annotations

import json

import pytest

from tests.helpers import RELEASE_NOTEBOOK, run_module


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


def test_grade_on_a_missing_file_exits_non_zero_with_one_line_and_no_output(tmp_path):
    """The real command line, in its own process: exit status, empty stdout, one stderr line."""
    proc = run_module("autograder", "grade", str(tmp_path / "submission.ipynb"), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no such notebook file" in lines[0]


@pytest.mark.parametrize(("content", "reason"), [("{not json", "not a readable Jupyter notebook"),
                                                 ("", "not a readable Jupyter notebook"),
                                                 ('{"cells": 3}', "not a readable Jupyter notebook")])
def test_grade_fails_with_a_one_line_reason_when_the_file_is_no_notebook(tmp_path, capsys, content, reason):
    """Same command, in this process (a new one per case would cost seconds of imports each)."""
    from autograder.__main__ import main

    path = tmp_path / "submission.ipynb"
    path.write_text(content)
    assert main(["grade", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0] and str(path) in lines[0]
