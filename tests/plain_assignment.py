"""An instructor's own plain nbgrader assignment, to put beside ours in the course.

``plain_notebook`` is its source notebook (ordinary nbgrader tests: ``assert``, ``numpy.testing``,
a hidden test; none calls the evidence API) and ``wrong_answers`` a student's wrong work on its
release. tests/test_plain_assignment.py grades it from the command line and on Dask,
tests/test_browser.py with the Formgrader's Autograde button.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ASSIGNMENT = "add_numbers"
MAX_SCORE = 5.0  # add: 2 points, scale: 3


def _cell(source: str, grade_id: str, *, solution: bool = False, points: float = 0) -> nbformat.NotebookNode:
    meta = {"grade": bool(points), "solution": solution, "locked": not solution, "grade_id": grade_id,
            "schema_version": 3, **({"points": points} if points else {})}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def plain_notebook() -> nbformat.NotebookNode:
    """An ordinary nbgrader source notebook: two solutions, two test cells (5 points, one hidden test)."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Write `add` and `scale`."),
        _cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", "add",
              solution=True),
        _cell("assert add(1, 2) == 3\nassert add(-1, 1) == 0", "add_tests", points=2),
        _cell("import numpy as np\n\ndef scale(x):\n    ### BEGIN SOLUTION\n"
              "    return np.asarray(x) / 255.0\n    ### END SOLUTION", "scale", solution=True),
        _cell("np.testing.assert_allclose(scale([0, 255]), [0, 1])\n### BEGIN HIDDEN TESTS\n"
              "np.testing.assert_allclose(scale([51]), [0.2])\n### END HIDDEN TESTS",
              "scale_tests", points=3),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def write_source(course: Path) -> Path:
    """Put the plain source notebook in ``course``'s source/ (generate_assignment is the caller's)."""
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(plain_notebook(), path)
    return path


def wrong_answers(release: Path, target: Path) -> Path:
    """The release notebook with both answers written wrong (``a - b``, ``x`` unscaled): 0 points."""
    wrong = nbformat.read(release, as_version=4)
    for cell in wrong.cells:
        cell.source = cell.source.replace("raise NotImplementedError()", "return a - b" if "def add" in
                                          cell.source else "return x")
    nbformat.write(wrong, target)
    return target
