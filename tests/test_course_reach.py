"""Nothing past the submission: a graded notebook reaches no course file, secret or host resource.

The path instructors use, in a real course: students hand in through nbgrader's exchange,
then ``nbgrader collect``, ``nbgrader autograde`` (what the Formgrader's Autograde button
runs), ``nbgrader generate_feedback`` and ``nbgrader release_feedback``.  Each attack sits on
real work (the solution with its training runs left undone) beside that work handed in
honestly, its twin: an attack must earn no more than the twin in any cell, return nothing of
the course or of the grader's environment to the student, change no course file and leave
nothing big behind.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path

import nbformat
import pytest

from autograder.host.course import make_course, run_nbgrader, scores_from_gradebook
from autograder.host.settings import load_settings
from autograder.tools.samples import cell_sources, replace_cells
from tests.helpers import ASSIGNMENT, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, private_tmpdir

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prepared_mnist")]

COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SECRET = "grader-secret-" + secrets.token_hex(8)  # in the grading process's environment only
TOKEN = "hub-token-" + secrets.token_hex(8)
FLOOD_BYTES = 40 * 1024**2  # printed by the flooding notebook: over the whole notebook's output limit


def reach_past_submission(course: Path) -> str:
    """Notebook code that tries every way out of its submission a student who read the code knows."""
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    return (
        "import json, os\n"
        "print('ENVIRONMENT', json.dumps(dict(os.environ)))\n"
        f"for name, target in [('loot.html', {str(source)!r}),\n"
        f"                     ('config.html', {str(course / 'nbgrader_config.py')!r}),\n"
        f"                     ('grades.html', {str(course / 'gradebook.db')!r})]:\n"
        "    try:\n        os.symlink(target, name)\n    except OSError as exc:\n        print('LINK', exc)\n"
        "try:\n"
        f"    os.replace({NOTEBOOK!r}, 'moved.ipynb')\n"
        f"    os.symlink({str(course / 'gradebook.db')!r}, {NOTEBOOK!r})\n"
        "    os.mkfifo('pipe.html')\n"
        "except OSError as exc:\n    print('LINK', exc)\n"
        "evidence = os.environ.get('AUTOGRADER_EVIDENCE_DIR')\n"
        "if evidence:\n"
        f"    os.symlink({str(source)!r}, os.path.join(evidence, 'loot.json'))\n"
        f"    os.symlink('/dev/zero', os.path.join(evidence, 'history_100.history.json'))\n"
    )


def fill_disk() -> str:
    """Notebook code that reserves disk in every folder it can write, then floods its output."""
    return (
        "import os\n"
        "for place in ('.', '/tmp', '/dev/shm'):\n"
        "    for size, name in ((3 * 1024**3, 'huge.bin'), (400 * 2**20, 'a.bin'), (400 * 2**20, 'b.bin')):\n"
        "        try:\n"
        "            fd = os.open(os.path.join(place, name), os.O_CREAT | os.O_WRONLY)\n"
        "            os.posix_fallocate(fd, 0, size)\n"
        "            print('RESERVED', place, name)\n"
        "        except OSError as exc:\n"
        "            print('DISK', place, name, exc.errno)\n"
        f"for i in range({FLOOD_BYTES // 1024**2}):\n"
        "    print('x' * 1024**2)\n"
    )


def fill_evidence() -> str:
    """Notebook code that writes files of 400 MiB into the evidence folder until it is stopped."""
    return (
        "import os\n"
        "evidence = os.environ['AUTOGRADER_EVIDENCE_DIR']\n"
        "for i in range(50):\n"
        "    fd = os.open(os.path.join(evidence, f'x{i}.json'), os.O_CREAT | os.O_WRONLY)\n"
        "    os.posix_fallocate(fd, 0, 400 * 1024**2)\n"
        "    os.close(fd)\n"
    )


def partial_work(out: Path, attack: str = "") -> Path:
    """The solution with its training left undone (about 11 s to grade), the attack atop its first cell."""
    source, release = cell_sources(SOURCE_NOTEBOOK), cell_sources(RELEASE_NOTEBOOK)
    edits = {gid: release[gid] for gid, code in source.items() if "train_model(" in code and gid in release}
    replace_cells(SOURCE_NOTEBOOK, edits, out)
    if attack:
        nb = nbformat.read(out, as_version=4)
        first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        first.source = attack + "\n" + first.source
        nbformat.write(nb, out)
    return out


def hand_in(exchange: Path, student: str, files: dict[str, Path]) -> Path:
    """Lay out a submission in the exchange's inbound folder as ``nbgrader submit`` does."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
    folder = exchange / COURSE_ID / "inbound" / f"{student}+{ASSIGNMENT}+{stamp}+{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
    for name, path in files.items():
        (folder / name).write_bytes(path.read_bytes())
    return folder


def digest(folder: Path, parts: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 of every file of the course under ``parts`` (links included as what they name)."""
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else
                                         hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if (p.is_file() or p.is_symlink())
            and p.relative_to(folder).parts[0] in parts}


def scratch_folders(tmp: Path) -> set[str]:
    """The grader's scratch folders in ``tmp`` (the TMPDIR it was given)."""
    return {p.name for p in tmp.glob("autograde-*")}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """One class through the exchange, collect, autograde, generate and release feedback."""
    tmp = tmp_path_factory.mktemp("reach")
    course, exchange = tmp / "course", tmp / "exchange"
    make_course(course)
    # The graders' own TMPDIR: no other test's scratch folders in it.
    with pytest.MonkeyPatch.context() as mp, private_tmpdir(mp) as scratch_tmp:
        mp.setenv("NBGRADER_EXCHANGE", str(exchange))
        mp.setenv("GRADER_SECRET", SECRET)
        mp.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
        run_nbgrader(course, "release_assignment", ASSIGNMENT)
        work = {"honest": partial_work(tmp / "honest.ipynb"),
                "reaches": partial_work(tmp / "reaches.ipynb", reach_past_submission(course)),
                "fills_disk": partial_work(tmp / "fills.ipynb", fill_disk()),
                "fills_evidence": partial_work(tmp / "fills_evidence.ipynb", fill_evidence())}
        for student, notebook in work.items():
            hand_in(exchange, student, {NOTEBOOK: notebook})
        linked = hand_in(exchange, "links_solution", {})  # a notebook that is a link to the solution
        (linked / NOTEBOOK).symlink_to(course / "source" / ASSIGNMENT / NOTEBOOK)
        collect = run_nbgrader(course, "collect", ASSIGNMENT)
        # Links put into submitted/ some other way (by hand, an older collect): nbgrader copies through them.
        planted = course / "submitted" / "planted_in_submitted" / ASSIGNMENT
        planted.mkdir(parents=True)
        (planted / NOTEBOOK).write_bytes(work["honest"].read_bytes())
        (planted / "loot.html").symlink_to(course / "source" / ASSIGNMENT / NOTEBOOK)
        as_link = course / "submitted" / "notebook_is_link" / ASSIGNMENT
        as_link.mkdir(parents=True)
        (as_link / NOTEBOOK).symlink_to(course / "source" / ASSIGNMENT / NOTEBOOK)
        before = digest(course, ("source", "release", "submitted", "nbgrader_config.py"))
        run_nbgrader(course, "autograde", ASSIGNMENT)
        run_nbgrader(course, "generate_feedback", ASSIGNMENT)
        run_nbgrader(course, "release_feedback", ASSIGNMENT)
        scratch_left = scratch_folders(scratch_tmp)
    yield {"course": course, "exchange": exchange, "before": before, "scratch_left": scratch_left,
           "collect_log": collect.stderr, "exchanged": list(work),
           "students": [*work, "planted_in_submitted", "notebook_is_link"]}


def scores(course: Path, student: str) -> dict[str, float]:
    url = f"sqlite:///{course / 'gradebook.db'}"
    return {gid: points for gid, points, _ in scores_from_gradebook(url, ASSIGNMENT, ASSIGNMENT, student)}


def returned(term: dict) -> list[Path]:
    """Every file that reaches a student: the autograded and feedback folders, and the exchange's feedback."""
    course, exchange = term["course"], term["exchange"]
    return [p for root in (course / "autograded", course / "feedback", exchange / COURSE_ID / "feedback")
            for p in sorted(root.rglob("*")) if not p.is_dir()]


def test_the_honest_twin_is_graded_and_each_attack_earns_no_more_in_any_cell(term):
    honest = scores(term["course"], "honest")
    assert 8 <= sum(honest.values()) < 27, honest  # real work, with its training left undone
    for student in term["students"][1:]:
        attack = scores(term["course"], student)
        assert {g: (attack[g], honest[g]) for g in honest if attack[g] > honest[g] + 1e-9} == {}, student


def test_nothing_of_the_graders_environment_reaches_the_student(term):
    for path in returned(term):
        text = path.read_bytes()
        assert SECRET.encode() not in text and TOKEN.encode() not in text, path
    graded = (term["course"] / "autograded" / "reaches" / ASSIGNMENT / NOTEBOOK).read_text()
    assert "ENVIRONMENT {" in graded and "GRADER_SECRET" not in graded  # it printed, and saw none of it


def test_no_link_or_course_file_reaches_the_feedback(term):
    course = term["course"]
    course_files = {hashlib.sha256(p.read_bytes()).hexdigest() for p in course.rglob("*")
                    if p.is_file() and p.relative_to(course).parts[0] in ("source", "release")}
    course_files.add(hashlib.sha256((course / "nbgrader_config.py").read_bytes()).hexdigest())
    for path in returned(term):
        assert not path.is_symlink() and path.is_file(), path
        assert hashlib.sha256(path.read_bytes()).hexdigest() not in course_files, path
    released = sorted(p.name for p in (term["exchange"] / COURSE_ID / "feedback").iterdir())
    # Those handed in through the exchange (the others have no submission secret to release to).
    assert len(released) == len(term["exchanged"]) and all(n.endswith(".html") for n in released)
    handed = sorted(p.name for p in (course / "feedback" / "reaches" / ASSIGNMENT).iterdir())
    assert handed == [f"{ASSIGNMENT}.html", "submission_secret.txt", "timestamp.txt"], handed


def test_a_notebook_linked_to_the_solution_is_not_collected_and_the_log_says_why(term):
    course = term["course"]
    assert not (course / "submitted" / "links_solution").exists()
    assert not (course / "autograded" / "links_solution").exists()
    log = term["collect_log"].splitlines()
    refusal = [line for line in log if "links_solution" in line and "ERROR" in line]
    assert refusal and "link" in refusal[0], term["collect_log"][-2000:]


def solution_lines(course: Path) -> list[str]:
    """Lines only the solution has (inside ``### BEGIN SOLUTION`` regions), long enough to be telling."""
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    regions = [r.split("### END SOLUTION")[0] for c in source.cells
               for r in c.source.split("### BEGIN SOLUTION")[1:]]
    release = RELEASE_NOTEBOOK.read_text()
    return [line.strip() for region in regions for line in region.splitlines()
            if len(line.strip()) > 25 and line.strip() not in release]


def test_links_already_in_submitted_are_not_graded_nor_returned(term):
    course = term["course"]
    for folder in (course / "autograded", course / "feedback"):
        assert not (folder / "planted_in_submitted" / ASSIGNMENT / "loot.html").exists()
    assert sum(scores(course, "notebook_is_link").values()) == 0
    graded = course / "autograded" / "notebook_is_link" / ASSIGNMENT / NOTEBOOK
    problems = nbformat.read(graded, as_version=4).metadata["autograder"]["problems"]
    assert any("handed in as a link" in p for p in problems), problems
    lines = solution_lines(course)
    assert lines
    for path in (graded, course / "feedback" / "notebook_is_link" / ASSIGNMENT / f"{ASSIGNMENT}.html"):
        text = path.read_text()
        assert not [line for line in lines if line in text], path


def test_no_course_file_changed_and_the_gradebook_is_whole(term):
    course = term["course"]
    assert digest(course, ("source", "release", "submitted", "nbgrader_config.py")) == term["before"]
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not (course / "gradebook.db").is_symlink()


def test_nothing_big_is_left_behind_and_output_was_capped(term):
    course = term["course"]
    limit = load_settings(course).limits.disk_bytes
    for path in [*returned(term), *(course / "submitted").rglob("*")]:
        assert path.is_dir() or path.stat().st_size < limit, path
    assert term["scratch_left"] == set()  # every kernel's scratch folder is gone
    settings = load_settings(course)
    graded = course / "autograded" / "fills_disk" / ASSIGNMENT / NOTEBOOK
    assert graded.stat().st_size < settings.output_mb * 1024**2 * 1.5
    cell = next(c for c in nbformat.read(graded, as_version=4).cells if "fallocate" in c.source)
    printed = "".join(o.get("text", "") for o in cell.outputs)
    assert "output over the limit" in printed
    for place in (".", "/tmp", "/dev/shm"):  # 27: EFBIG, over the file size limit; 28: ENOSPC, folder full
        assert f"DISK {place} huge.bin 27" in printed and f"RESERVED {place} a.bin" in printed, printed[:500]
        assert f"DISK {place} b.bin 28" in printed, printed[:500]


def test_a_kernel_filling_its_evidence_folder_is_stopped_and_says_so(term):
    graded = nbformat.read(term["course"] / "autograded" / "fills_evidence" / ASSIGNMENT / NOTEBOOK, 4)
    problems = graded.metadata["autograder"]["problems"]
    assert any("grew past the" in p for p in problems), problems


def test_hidden_tests_are_not_in_the_released_feedback(term):
    source = nbformat.read(term["course"] / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    regions = [r.split("### END HIDDEN TESTS")[0] for c in source.cells
               for r in c.source.split("### BEGIN HIDDEN TESTS")[1:]]
    hidden = [line.strip() for region in regions for line in region.splitlines() if len(line.strip()) > 20]
    assert hidden
    for path in (term["exchange"] / COURSE_ID / "feedback").iterdir():
        text = path.read_text()
        assert not [line for line in hidden if line in text], path
