"""Runs on the host, inside nbgrader: the students' feedback without the hidden tests' code.

``nbgrader generate_feedback`` shows every grade cell's source as the gradebook holds it,
``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions and their expected answers
included (nbgrader's default, nbgrader issue #1363), so a student who gets feedback early
could hand the hidden answers around.  The course's ``nbgrader_config.py`` puts
:class:`HideHiddenTests` in nbgrader's own ``GenerateFeedback`` pipeline, after ``GetGrades``:
in each cell nbgrader restores from the gradebook (grade cells and other locked cells, never
a student's answer) it replaces each hidden region by one ``# (hidden tests)`` line, and keeps
the outputs (the judge's message, then the points), except that an error's traceback, which
quotes the hidden lines, is cut to ``ename: evalue``.  Cells without hidden tests are untouched.

The delimiters are nbgrader's ``ClearHiddenTests`` settings (``c.ClearHiddenTests.begin_test_delimeter``
and ``.end_test_delimeter``, the ones ``generate_assignment`` uses), and nbgrader's own code
cuts the regions.  To show the hidden tests in feedback: ``c.HideHiddenTests.enabled = False``.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

MARKERS = {"code": "# (hidden tests)", "markdown": "*(hidden tests)*"}  # what stands in a region's place
OTHER_MARKER = "(hidden tests)"  # in raw cells


def hide_hidden_regions(cell: NotebookNode, clearer: ClearHiddenTests) -> bool:
    """Replace each hidden-test region of ``cell`` by one marker line, so students see tests were there.

    The marker goes before each line holding ``clearer``'s begin delimiter (indented as it is),
    then nbgrader's own ``ClearHiddenTests`` cuts the regions, raising on an unclosed or nested
    one (feedback then fails rather than shows them).  Returns whether there was a region; a
    cell without one is left exactly as it was.
    """
    begin = clearer.begin_test_delimeter
    if begin not in cell.source:
        return False
    marker = MARKERS.get(cell.cell_type, OTHER_MARKER)
    lines: list[str] = []
    for line in cell.source.split("\n"):
        if begin in line:
            lines.append(line[: len(line) - len(line.lstrip())] + marker)
        lines.append(line)
    cell.source = "\n".join(lines)
    return clearer._remove_hidden_test_region(cell)


def shorten_tracebacks(cell: NotebookNode) -> None:
    """Cut each error output of ``cell`` to ``ename: evalue``: a traceback quotes the cell's source."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = [f"{output.get('ename', '')}: {output.get('evalue', '')}"]


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each check's message and points, not the hidden tests' code and expected answers.

    ``enabled`` (True by default) is the course's setting: ``c.HideHiddenTests.enabled = False``
    shows the hidden tests as nbgrader does.  It is not a ``ClearHiddenTests`` itself, so
    turning that off for ``generate_assignment`` does not turn this off.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        """Hide the hidden tests of a cell nbgrader restored from the gradebook; leave other cells alone."""
        if utils.is_locked(cell) and hide_hidden_regions(cell, self._clearer()):
            shorten_tracebacks(cell)
        return cell, resources

    def _clearer(self) -> ClearHiddenTests:
        """nbgrader's ClearHiddenTests with the course's delimiters (its config comes through ``parent``)."""
        if getattr(self, "_clear_hidden_tests", None) is None:
            self._clear_hidden_tests = ClearHiddenTests(parent=self)
        return self._clear_hidden_tests
