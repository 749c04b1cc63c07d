"""Broken and hostile submissions: each is graded within its limit, earns nothing it did not
honestly earn, gets a message saying what happened, and changes nothing outside its own output.

One class holds every case; `grade_all` grades it (two at a time, 60 s per submission), then
each test reads its own student's outcome.  These cases attack the grading itself (hangs,
crashes, memory, the checks and the judge patched in the kernel, the course's files, broken
files), so they start from the blank release: a blank scores 0 honestly, and without the
sandbox, the limits or the judge they would hang, crash the grader or score more.  Attacks
that fake work sit on real work beside their honest twins, in tests/test_forgery.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
import sqlalchemy

from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, grading_settings
from tests.test_course_reach import SECRET, reach_past_submission

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

TIMEOUT = 60
LIMITS = {"timeout": TIMEOUT, "cell_timeout": TIMEOUT / 2, "workers": 2}

ATTACK_FILES = Path(__file__).parent / "attacks"  # each attack a linted file; pytest collects none of them
# Code put at the top of the first cell the student completes, each a student of its own.
ATTACKS = ["infinite_loop", "sleep_forever", "ignore_interrupts_and_loop", "memory_bomb", "sys_exit",
           "os_exit", "patch_checks"]


def attack(name: str) -> str:
    """The code of tests/attacks/NAME.py, as a student would type it into a cell."""
    return (ATTACK_FILES / f"{name}.py").read_text().rstrip("\n")


def _course_probe(course: Path) -> str:
    """An attack that knows the course's real path and every trick to find and use it."""
    code = attack("find_and_damage_course")
    assert '"COURSE_PATH"' in code, "tests/attacks/find_and_damage_course.py lost its COURSE_PATH"
    return code.replace('"COURSE_PATH"', repr(str(course)))


def _release() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE_NOTEBOOK, as_version=4)


def _grade_ids(nb) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _with_attack(code: str) -> nbformat.NotebookNode:
    nb = _release()
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                 and c.cell_type == "code")
    first.source = code + "\n" + first.source
    return nb


def _write(folder: Path, nb, name: str = "mnist_batch_size.ipynb") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


def _malformed(folder: Path, case: str) -> None:
    """The broken-file cases: each writes its submission into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "mnist_batch_size.ipynb"
    nb = _release()
    ids = _grade_ids(nb)
    if case == "invalid_json":
        target.write_text('{"cells": [ {"cell_type": "code", ')
    elif case == "empty_file":
        target.write_text("")
    elif case == "nbformat_v3":
        target.write_text(nbformat.writes(nbformat.convert(nb, 3), version=3))
    elif case == "cells_deleted":
        nb.cells = [c for c in nb.cells if not c.metadata["nbgrader"].get("grade")]
        _write(folder, nb)
    elif case == "cells_duplicated":
        nb.cells = nb.cells + [c for c in nb.cells if c.metadata["nbgrader"].get("grade")]
        _write(folder, nb)
    elif case == "cells_moved":
        nb.cells = list(reversed(nb.cells))
        _write(folder, nb)
    elif case == "metadata_changed":
        for cell in nb.cells:
            meta = cell.metadata["nbgrader"]
            if meta.get("grade"):
                meta["points"] = 100
            meta["locked"] = False
        nb.cells[ids.index("validation_split_size")].source = "2"
        _write(folder, nb)
    elif case == "cell_type_changed":
        for cell in nb.cells:
            if cell.metadata["nbgrader"].get("grade") and cell.cell_type == "code":
                cell.cell_type = "markdown"
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        _write(folder, nb)
    elif case == "renamed_notebook":
        _write(folder, nb, "my_homework_final_v2.ipynb")
    elif case == "huge_outputs":
        cell = nb.cells[ids.index("setup")]
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 30_000_000)]
        _write(folder, nb)
    elif case == "missing_notebook":
        (folder / "notes.txt").write_text("forgot to attach it")
    else:
        raise ValueError(case)


MALFORMED = ["invalid_json", "empty_file", "nbformat_v3", "cells_deleted", "cells_duplicated",
             "cells_moved", "metadata_changed", "cell_type_changed", "renamed_notebook",
             "huge_outputs", "missing_notebook"]

# What the outcome's message must say for cases that cannot be graded normally.
SAYS = {
    "infinite_loop": "time limit",
    "sleep_forever": "time limit",
    "ignore_interrupts_and_loop": "time limit",
    "os_exit": "kernel died",
    "invalid_json": "not a readable Jupyter notebook",
    "empty_file": "not a readable Jupyter notebook",
    "renamed_notebook": "found my_homework_final_v2.ipynb instead",
    "missing_notebook": "no mnist_batch_size.ipynb submitted",
    "cells_deleted": "missing from the submission",
    "cells_duplicated": "duplicated cells",
    "cells_moved": "moved out of order",
    "cell_type_changed": "changed to markdown",
    "memory_bomb": "ran out of memory",
    "sys_exit": "sys.exit()",
    "patch_checks": "tampered with",
}


def _snapshot(course: Path) -> dict[str, str]:
    """Hashes of every course file a submission must never change."""
    keep = ("source", "release", "submitted", "nbgrader_config.py")
    return {str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*")) if p.is_file()
            and p.relative_to(course).parts[0] in keep}


def _width_64_pair() -> dict[str, nbformat.NotebookNode]:
    """Real but wrong work (a too-wide model), honest and with Keras monkeypatched."""
    source = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    model_code = next(c.source for c in source.cells if c.metadata["nbgrader"]["grade_id"] == "model")
    model_code = model_code.replace("hidden_layer_size = 50", "hidden_layer_size = 64")
    pair = {}
    patch = attack("patch_keras") + "\n"
    for student, prefix in (("honest_width_64", ""), ("patched_keras_width_64", patch)):
        nb = _release()
        cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "model")
        cell.source = prefix + model_code
        pair[student] = nb
    return pair


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """Every case as one student of one class, graded once; plus the course before grading."""
    from autograder.host.classroom import grade_all
    from autograder.host.course import make_course

    course = tmp_path_factory.mktemp("hostile") / "course"
    make_course(course)
    submitted = course / "submitted"
    _write(submitted / "honest_blank" / ASSIGNMENT, _release())
    for name in ATTACKS:
        _write(submitted / name / ASSIGNMENT, _with_attack(attack(name)))
    _write(submitted / "find_and_damage_course" / ASSIGNMENT, _with_attack(_course_probe(course)))
    _write(submitted / "reach_past_submission" / ASSIGNMENT, _with_attack(reach_past_submission(course)))
    for case in MALFORMED:
        _malformed(submitted / case / ASSIGNMENT, case)
    for student, nb in _width_64_pair().items():
        _write(submitted / student / ASSIGNMENT, nb)
    before = _snapshot(course)
    with pytest.MonkeyPatch.context() as mp:  # the grader's secrets: the Dask workers inherit them
        mp.setenv("GRADER_SECRET", SECRET)
        summary = grade_all(course, ASSIGNMENT, grading_settings(course, **LIMITS), progress=False)
    print("\n".join(summary.lines()))
    return course, before, {o.student: o for o in summary.outcomes}, summary


ALL_CASES = ["honest_blank", *ATTACKS, "find_and_damage_course", "reach_past_submission", *MALFORMED]
WIDTH_64 = ["honest_width_64", "patched_keras_width_64"]


@pytest.mark.timeout(1800)
def test_every_case_was_graded_and_the_honest_blank_scores_zero(hostile_class):
    _, _, outcomes, summary = hostile_class
    assert sorted(outcomes) == sorted(ALL_CASES + WIDTH_64)
    assert all(o.report is not None for o in outcomes.values()), \
        {s: o.problems for s, o in outcomes.items() if o.report is None}
    assert outcomes["honest_blank"].report.score == 0
    assert outcomes["honest_blank"].report.max_score == 27


@pytest.mark.parametrize("case", ALL_CASES[1:])
def test_case_earns_no_more_than_an_honest_blank_within_its_time_limit(hostile_class, case):
    _, _, outcomes, _ = hostile_class
    outcome = outcomes[case]
    assert outcome.report.score == 0, [(c.grade_id, c.points, c.message) for c in outcome.report.cells
                                       if c.points]
    assert outcome.report.max_score == 27  # the gradebook's points, whatever the file claims
    assert outcome.seconds < TIMEOUT + 60
    if case in SAYS:
        assert any(SAYS[case] in p for p in outcome.problems), outcome.problems
        assert SAYS[case] in outcome.report.cells[0].message


def test_nothing_outside_the_submissions_own_output_changed(hostile_class):
    """source/, release/, submitted/ and the config are byte-identical after grading."""
    course, before, _, _ = hostile_class
    assert _snapshot(course) == before


def test_the_course_was_invisible_to_the_kernel(hostile_class):
    """The probe knew the course's path and still found no gradebook, source or release."""
    course, _, _, _ = hostile_class
    graded = nbformat.read(course / "autograded" / "find_and_damage_course" / ASSIGNMENT
                           / "mnist_batch_size.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in graded.cells])
    assert "FOUND []" in text
    assert "DAMAGE" in text  # what it "did" landed in the sandbox's private folders: see the snapshot test


def test_on_dask_no_secret_and_no_link_comes_back_from_the_kernel(hostile_class):
    """grade-all: the kernel printed its environment and planted links; none of it reached the course."""
    course, _, _, _ = hostile_class
    folder = course / "autograded" / "reach_past_submission" / ASSIGNMENT
    text = (folder / "mnist_batch_size.ipynb").read_text()
    assert "ENVIRONMENT {" in text and SECRET not in text and "GRADER_SECRET" not in text
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("grading.")) == [
        "mnist_batch_size.ipynb"]


def test_gradebook_holds_every_student_and_stays_consistent(hostile_class):
    from nbgrader.api import Gradebook

    course, _, outcomes, _ = hostile_class
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == sorted(outcomes)
        assert gb.db.execute(sqlalchemy.text("PRAGMA integrity_check")).scalar() == "ok"
        for student in outcomes:
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.code_score == outcomes[student].report.score


def test_grading_the_class_again_gives_the_same_results(hostile_class):
    """Idempotent: a second run over a few of the cases changes no score."""
    from autograder.host.classroom import grade_all

    course, _, outcomes, _ = hostile_class
    again_course = course.parent / "again"
    again_course.mkdir()
    for path in ("nbgrader_config.py", "gradebook.db"):
        (again_course / path).write_bytes((course / path).read_bytes())
    import shutil

    shutil.copytree(course / "source", again_course / "source")
    for student in ("honest_blank", "patch_checks", "invalid_json"):
        shutil.copytree(course / "submitted" / student, again_course / "submitted" / student)
    summary = grade_all(again_course, ASSIGNMENT, grading_settings(again_course, **LIMITS), progress=False)
    for outcome in summary.outcomes:
        assert outcome.report.score == outcomes[outcome.student].report.score




def test_monkeypatched_keras_earns_no_more_than_the_same_work_without_it(hostile_class):
    """A too-wide model with count_params/evaluate/get_compile_config patched earns no more."""
    _, _, outcomes, _ = hostile_class
    honest = {c.grade_id: c.points for c in outcomes["honest_width_64"].report.cells}
    patched = {c.grade_id: c.points for c in outcomes["patched_keras_width_64"].report.cells}
    assert 0 < honest["architecture"] < 3  # the honest too-wide model earns partial credit
    assert patched["architecture"] == honest["architecture"]
    assert all(patched[g] <= honest[g] for g in honest), (patched, honest)
