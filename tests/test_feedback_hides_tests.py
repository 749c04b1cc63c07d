"""Feedback shows each check's message and points, never the hidden tests' code (nbgrader issue #1363).

The unit tests run the preprocessor on a small notebook, with no kernel. The path tests do what
an instructor does, with nbgrader's own commands in a real course: autograde a submission (the
blank release notebook), ``nbgrader generate_feedback``, and read the HTML a student gets;
then the course setting ``HideHiddenTests.enabled = False`` shows the hidden tests again.
"""

from __future__ import annotations

import copy
import html
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from autograder.host.course import make_course, run_nbgrader, submit
from autograder.host.feedback import HideHiddenTests
from autograder.host.settings import course_config
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, ROOT, SOURCE_NOTEBOOK, cell_messages

MARKER = "# (hidden tests)"
SECRET = "grade(check_answer, out_of=2, expected=42)"
SECRET_INDENTED = "assert answer == 42, 'the answer is 42'"


def _grade(source: str, grade_id: str, outputs: list) -> nbformat.NotebookNode:
    """An autograded test cell (grade, locked) as an autograded notebook holds it."""
    cell = new_code_cell(source, outputs=outputs, execution_count=1)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                                 "points": 2, "schema_version": 3, "task": False}
    return cell


def _verdict(message: str, points: float) -> list:
    """The judge's outputs in a grade cell: its message, then its points."""
    return [new_output("stream", name="stdout", text=message + "\n"),
            new_output("execute_result", data={"text/plain": repr(points)}, execution_count=1)]


def _feedback_notebook() -> nbformat.NotebookNode:
    """Grade cells with and without hidden tests, an error quoting a hidden line, a student's cells."""
    student = new_code_cell("answer = 42\n### BEGIN HIDDEN TESTS (a student's text, not a region)")
    student.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "answer",
                                    "schema_version": 3, "task": False}
    error = new_output("error", ename="AssertionError", evalue="the answer is 42",
                       traceback=["Traceback (most recent call last):",
                                  f"  Cell In[1], line 4\n----> 4     {SECRET_INDENTED}",
                                  "AssertionError: the answer is 42"])
    plain_error = new_output("error", ename="NameError", evalue="name 'answer' is not defined",
                             traceback=["----> 1 require(check_answer)", "NameError: ..."])
    return new_notebook(cells=[
        new_markdown_cell("# The lesson"),
        student,
        _grade(f"require(check_answer)\n### BEGIN HIDDEN TESTS\n{SECRET}\n### END HIDDEN TESTS",
               "answer_value", _verdict("answer_value: 0 / 2 points. expected a number", 0.0)),
        _grade("require(check_answer)\nif True:\n    ### BEGIN HIDDEN TESTS\n"
               f"    {SECRET_INDENTED}\n    ### END HIDDEN TESTS\nprint('done')",
               "answer_assert", [error]),
        _grade("require(check_answer)", "answer_visible", [plain_error]),
    ])


def _preprocess(nb: nbformat.NotebookNode, config: Config | None = None) -> nbformat.NotebookNode:
    """Run the preprocessor as nbconvert's exporter does (through ``__call__``, which honours ``enabled``)."""
    out, _ = HideHiddenTests(config=config or Config())(nb, {})
    return out


def test_hidden_regions_become_one_marker_line_and_the_verdicts_stay():
    nb = _preprocess(_feedback_notebook())
    value, asserting = nb.cells[2], nb.cells[3]
    assert value.source == f"require(check_answer)\n{MARKER}"
    assert asserting.source == f"require(check_answer)\nif True:\n    {MARKER}\nprint('done')"
    text = nbformat.writes(nb)
    assert SECRET not in text and SECRET_INDENTED not in text and "HIDDEN TESTS\\n" not in text
    assert value.outputs == _verdict("answer_value: 0 / 2 points. expected a number", 0.0)
    (error,) = asserting.outputs
    assert (error.ename, error.evalue) == ("AssertionError", "the answer is 42")
    assert error.traceback == ["AssertionError: the answer is 42"]


def test_cells_without_hidden_tests_and_students_cells_are_untouched():
    original = _feedback_notebook()
    nb = _preprocess(copy.deepcopy(original))
    for i in (0, 1, 4):  # the lesson, the student's answer (with the delimiter's words), a visible test
        assert nb.cells[i] == original.cells[i]
    assert nb.cells[4].outputs[0].traceback == original.cells[4].outputs[0].traceback


def test_disabled_in_the_config_the_notebook_is_unchanged():
    original = _feedback_notebook()
    nb = _preprocess(copy.deepcopy(original), Config({"HideHiddenTests": {"enabled": False}}))
    assert nb == original
    assert HideHiddenTests().enabled  # on by default


def test_the_course_delimiters_of_clear_hidden_tests_apply():
    cell = _grade(f"require(check_answer)\n# >>> secret\n{SECRET}\n# <<< secret", "custom", [])
    config = Config({"ClearHiddenTests": {"begin_test_delimeter": ">>> secret",
                                          "end_test_delimeter": "<<< secret"}})
    nb = _preprocess(new_notebook(cells=[cell]), config)
    assert nb.cells[0].source == f"require(check_answer)\n{MARKER}"


def test_an_unclosed_region_fails_rather_than_shows_it():
    cell = _grade(f"### BEGIN HIDDEN TESTS\n{SECRET}", "unclosed", [])
    with pytest.raises(RuntimeError, match="No end hidden tests"):
        _preprocess(new_notebook(cells=[cell]))


def test_the_course_runs_it_in_generate_feedback_after_get_grades():
    steps = list(course_config(ROOT).GenerateFeedback.preprocessors)
    assert steps.index("autograder.host.feedback.HideHiddenTests") > steps.index(
        "nbgrader.preprocessors.GetGrades")


# The path instructors use: nbgrader autograde, then nbgrader generate_feedback, in a real course.

def _flat(text: str) -> str:
    """``text`` with every run of white space made one space (HTML and highlighting re-space code)."""
    return " ".join(text.split())


def hidden_lines(source: Path, release: Path) -> list[str]:
    """Each non-trivial line of the source notebook's hidden-test regions that the release does not show."""
    visible = _flat("\n".join(c.source for c in nbformat.read(release, as_version=4).cells))
    lines, inside = [], False
    for cell in nbformat.read(source, as_version=4).cells:
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(_flat(line)) >= 12 and _flat(line) not in visible:
                lines.append(_flat(line))
    return lines


def grade_cells(notebook: Path) -> list[dict]:
    """The nbgrader metadata of the notebook's autograded (code) grade cells."""
    return [c.metadata["nbgrader"] for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def feedback_text(course: Path, student: str = "student") -> str:
    """The feedback HTML a student gets: its rendered text, then all of it (scripts too), unescaped."""
    page = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    return _flat(BeautifulSoup(page, "html.parser").get_text()) + "\n" + _flat(html.unescape(page))


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory: pytest.TempPathFactory, prepared_mnist: Path) -> Path:
    """A course where the blank release notebook was submitted, autograded and given feedback."""
    course = tmp_path_factory.mktemp("feedback") / "course"
    make_course(course)
    submit(course, ASSIGNMENT, "student", course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    run_nbgrader(course, "autograde", ASSIGNMENT)
    run_nbgrader(course, "generate_feedback", ASSIGNMENT)
    return course


def test_feedback_shows_no_hidden_test_but_every_checks_message(graded_course: Path):
    secrets = hidden_lines(SOURCE_NOTEBOOK, RELEASE_NOTEBOOK)
    assert len(secrets) >= 5, secrets
    text = feedback_text(graded_course)
    assert [line for line in secrets if line in text] == []
    regions = SOURCE_NOTEBOOK.read_text().count("BEGIN HIDDEN TESTS")
    assert text.count(MARKER) >= regions > 0
    messages = cell_messages(graded_course / "autograded" / "student" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert len(messages) >= 10 and all(messages.values()), messages
    assert {g: m for g, m in messages.items() if _flat(m) not in text} == {}
    scores = [f"Grade cell: {meta['grade_id']} Score: 0.0 / {float(meta['points'])}"
              for meta in grade_cells(SOURCE_NOTEBOOK)]
    assert [score for score in scores if score not in text] == []  # the blank notebook scores 0 everywhere


def test_the_course_setting_shows_the_hidden_tests_again(graded_course: Path, tmp_path: Path):
    course = tmp_path / "course"
    shutil.copytree(graded_course, course)
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--force", "--HideHiddenTests.enabled=False")
    text = feedback_text(course)
    assert [line for line in hidden_lines(SOURCE_NOTEBOOK, RELEASE_NOTEBOOK) if line not in text] == []
    assert MARKER not in text
