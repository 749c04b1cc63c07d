"""End to end in a real browser: headless Chromium drives the course's JupyterLab (autograder.tools.lab).

A student fetches the assignment from the Assignment List, completes it (the reference solution
is written into the fetched notebook before it is opened), runs it with Run > Run All Cells,
validates it with nbgrader's Validate button and submits it. The instructor collects it, a
hostile submission (checks patched to full marks in its kernel) is handed in beside it, and the
Formgrader's Autograde button grades both safely (sandboxed kernel, clean judge); only the
written answers need manual grading. The Formgrader lists the second assignment too, and its
Autograde button grades a complete submission of it with exercise 10's saved run handed in.
An instructor's own plain nbgrader assignment beside ours is autograded as nbgrader would (5/5, 0/5).
The instructor also sees the Create Assignment panel, and after a roster import
(python -m autograder roster import) Manage Students lists the students as "Last, First", not "None, None".
Everything happens in a temporary copy of the course; screenshots go to artifacts/browser/
(or $BROWSER_ARTIFACTS).

Needs Debian's chromium at /usr/bin/chromium (no Playwright browser download) and the
prepared TFDS mnist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.browser import (
    CHROMIUM,
    NOT_TRAINED,
    SECOND,
    answered,
    autograde_in_formgrader,
    cell,
    hostile,
    nbgrader_menu,
    show,
    wait_until_up,
)
from tests.browser import shot as save_shot
from tests.helpers import ROOT, free_port

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("prepared_mnist")]

TOKEN = "browser-test-token"
ASSIGNMENT = "mnist_batch_size"
COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FALLBACK_STUDENT = "ada"
HOSTILE_STUDENT = "mallory"
NOT_DONE = NOT_TRAINED  # mallory trains no model
DONE = ("validation_split_size", "scaling", "architecture", "compile_settings")  # her data and model
WRITTEN_ANSWERS = ["exercise6_answer", "exercise7_answer"]  # markdown, graded by hand
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "artifacts" / "browser"))
SECOND_ASSIGNMENT = "mnist_hyperparameters"



@dataclass
class Lab:
    """A running course lab: its URL, course copy and the environment nbgrader commands need."""

    url: str
    course: Path
    env: dict[str, str]
    log: Path


def nbgrader(course: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course copy; fails the test with its output when it fails."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def shot(page, name: str) -> Path:
    """Save a screenshot in this test's artifacts folder."""
    return save_shot(page, ARTIFACTS, name)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The course lab on a free localhost port, in a fresh course copy with the assignment released."""
    from autograder.host.course import make_course, nbgrader_env
    from autograder.tools.lab import prepare_lab

    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    tmp = tmp_path_factory.mktemp("browser")
    course = tmp / "course"
    make_course(course, ASSIGNMENT)  # copies config and source/, runs generate_assignment
    make_course(course, SECOND_ASSIGNMENT)  # the same course, its second assignment
    env = nbgrader_env()
    env["NBGRADER_EXCHANGE"] = os.fspath(tmp / "exchange")
    # Jupyter's per-user data (nbgrader's cache of the student's submissions, kernel connection
    # files, notebook signatures) in the temporary folder too, not in ~/.local/share/jupyter.
    env["JUPYTER_DATA_DIR"] = os.fspath(tmp / "jupyter-data")
    env["JUPYTER_RUNTIME_DIR"] = os.fspath(tmp / "jupyter-data" / "runtime")
    env["IPYTHONDIR"] = os.fspath(tmp / "ipython")  # the kernels' history and profile
    port = free_port()
    launch = prepare_lab(course, port=port, token=TOKEN, open_browser=False, env=env)
    for assignment in (ASSIGNMENT, SECOND_ASSIGNMENT):  # the instructor releases both
        nbgrader(course, launch.env, "release_assignment", assignment)
    # Every cell in the page (no lazy windowing), so the checks below see the whole notebook.
    tracker = launch.config_dir / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}\n')
    # The reduced training budget that nbgrader uses when it validates or autogrades: the kernels
    # inherit this from the server, so Run All takes about a minute instead of the full-size ~10.
    server_env = {**launch.env, "NBGRADER_EXECUTION": "validate"}
    log = tmp / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(launch.command, cwd=launch.cwd, env=server_env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/status?token={TOKEN}", proc, log, 90, "JupyterLab")
        yield Lab(url, course, launch.env, log)
    finally:
        proc.terminate()  # SIGTERM: the server shuts its kernels down and exits
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if ARTIFACTS.is_dir():
            shutil.copyfile(log, ARTIFACTS / "jupyterlab.log")
            capture = request.config.pluginmanager.get_plugin("capturemanager")
            with capture.global_and_fixture_disabled():  # printed even when pytest captures output
                print(f"\nbrowser test screenshots and server log: {ARTIFACTS}")


@pytest.fixture
def page(browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator:
    """A new browser page logged in to the lab, with JupyterLab loaded; a screenshot if the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60 * SECOND)
    pg = context.new_page()
    pg.goto(f"{lab.url}/lab?reset&token={TOKEN}")  # reset: no tabs restored from the last test
    pg.wait_for_selector("#jp-main-dock-panel")
    pg.get_by_role("menuitem", name="Nbgrader").wait_for()
    failed_before = request.session.testsfailed
    try:
        yield pg
        if request.session.testsfailed > failed_before:  # the test's failure is reported before teardown
            shot(pg, f"FAILED-{request.node.name}")
    finally:
        context.close()


def open_notebook(page, lab: Lab, relpath: str) -> None:
    """Open a notebook of the course by URL and wait for its kernel to be idle."""
    page.goto(f"{lab.url}/lab/tree/{relpath}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    # The kernel itself, not just the notebook: Run All before the kernel is up runs nothing.
    page.locator("#jp-main-statusbar").get_by_text(
        re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=120 * SECOND)


def test_student_fetches_runs_validates_and_submits(page, lab: Lab) -> None:
    """Assignment List fetch, Run All (training output, passing visible tests, the plot), Validate, Submit."""
    nbgrader_menu(page, "Assignment List")
    released = page.locator("#released_assignments_list")
    released.get_by_text(ASSIGNMENT).first.wait_for()
    shot(page, "01-assignment-list-released")
    # Both assignments are released: fetch this one from its own row.
    released.locator(".list_item", has=page.locator(".item_name", has_text=ASSIGNMENT)) \
        .get_by_role("button", name="Fetch").click()
    page.locator("#fetched_assignments_list").get_by_text(ASSIGNMENT).first.wait_for()

    fetched = lab.course / COURSE_ID / ASSIGNMENT / NOTEBOOK
    assert fetched.is_file(), f"Fetch put nothing at {fetched}"
    answered(fetched, fetched)  # the student's answers: the reference solution
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(fetched, as_version=4).cells)

    open_notebook(page, lab, f"{COURSE_ID}/{ASSIGNMENT}/{NOTEBOOK}")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    page.get_by_text("Epoch 1/5").first.wait_for(timeout=180 * SECOND)  # Keras' epoch lines, live
    # Done when every code cell shows an execution count, i.e. none is queued ([*]) or unrun ([ ]).
    page.wait_for_function(
        """n => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                   return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
        arg=code_cells, timeout=300 * SECOND)
    page.locator(".jp-NotebookPanel-toolbar [data-command='docmanager:save']").click()
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')")

    show(page, cell(page, "model_100, history_100 = train_model"))
    shot(page, "02-training-output")
    plot = cell(page, "plot_runs({")
    show(page, plot)
    assert plot.locator(".jp-RenderedImage img").count() == 1
    shot(page, "03-plot-runs")
    show(page, cell(page, "grade(checks.check_architecture"))
    shot(page, "04-visible-tests")

    nb = nbformat.read(fetched, as_version=4)
    texts = {c.metadata["nbgrader"]["grade_id"]: "".join(o.get("text", "") for o in c.outputs)
             for c in nb.cells if c.cell_type == "code"}
    errors = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert errors == [], f"cells raised: {errors}"
    assert "Epoch 5/5" in texts["main_run"] and "val_accuracy" in texts["main_run"]
    assert "Test accuracy:" in texts["main_run"]
    for gid in ("validation_split_size", "scaling", "architecture", "compile_settings", "batch_size_trend"):
        points = re.search(r"([\d.]+) / ([\d.]+) points", texts[gid])
        assert points and points[1] == points[2], f"{gid}: {texts[gid]!r}"
    plot_outputs = next(c.outputs for c in nb.cells if "plot_runs({" in c.source)
    assert any("image/png" in o.get("data", {}) for o in plot_outputs)

    page.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Success! Your notebook passes all the tests.").wait_for(timeout=240 * SECOND)
    shot(page, "05-validate-success")
    dialog.get_by_role("button", name="Ok").click()

    nbgrader_menu(page, "Assignment List")
    fetched_list = page.locator("#fetched_assignments_list")
    fetched_list.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_text(ASSIGNMENT).first.wait_for()
    assert submitted.get_by_text(re.compile(r"^\d{4}-\d\d-\d\d .* UTC$")).count() == 1  # one submission
    shot(page, "06-assignment-list-submitted")
    inbound = Path(lab.env["NBGRADER_EXCHANGE"]) / COURSE_ID / "inbound"
    assert any(inbound.iterdir()), "Submit left nothing in the exchange"


def test_formgrader_autograde_button_grades_safely_and_flags_only_written_answers(page, lab: Lab) -> None:
    """The Formgrader's Autograde button grades an honest and a check-patching submission safely.

    The honest student gets every autograded point; mallory, whose kernel claims full marks for
    every check, gets only what the clean judge confirms.  Only the written answers need manual
    grading, and the Manual Grading view shows the graded notebook.
    """
    from nbgrader.api import Gradebook

    from autograder.host.course import submit
    from tests.helpers import cell_messages

    nbgrader(lab.course, lab.env, "collect", ASSIGNMENT)  # what the student test submitted
    submitted = lab.course / "submitted"
    release = lab.course / "release" / ASSIGNMENT / NOTEBOOK
    if not submitted.is_dir() or not any(submitted.iterdir()):  # this test alone: hand one in directly
        submit(lab.course, ASSIGNMENT, FALLBACK_STUDENT, answered(release, lab.course / "answers.ipynb"))
    (student,) = [p.name for p in submitted.iterdir()]
    submit(lab.course, ASSIGNMENT, HOSTILE_STUDENT, hostile(release, lab.course.parent / "mallory.ipynb"))

    nbgrader_menu(page, "Formgrader")
    fg = page.frame_locator("iframe[src*='formgrader']")
    row = fg.locator("#main-table tr", has_text=ASSIGNMENT)
    row.locator("td.num-submissions", has_text="2").wait_for()
    shot(page, "07-formgrader-assignments")

    row.locator("td.num-submissions a").click()
    fg.locator("th", has_text="Student ID").wait_for()
    shown = {name: autograde_in_formgrader(fg, name) for name in (student, HOSTILE_STUDENT)}
    shot(page, "08-formgrader-submissions")

    with Gradebook(f"sqlite:///{lab.course / 'gradebook.db'}") as gb:
        graded = {name: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name)
                  for name in (student, HOSTILE_STUDENT)}
        totals = {name: (nb.code_score, nb.max_code_score, nb.score, nb.max_score)
                  for name, nb in graded.items()}
        points = {name: {g.name: g.score for g in nb.grades if g.cell_type == "code"}
                  for name, nb in graded.items()}
        manual = {name: {g.name: (g.cell_type, g.needs_manual_grade) for g in nb.grades}
                  for name, nb in graded.items()}
        submission_id = graded[student].id
    print(f"gradebook (code score, max, score, max): {totals}\nmallory: {points[HOSTILE_STUDENT]}")
    for name, (*_, score, max_score) in totals.items():  # the page shows what the gradebook holds
        assert shown[name] == f"{score:g} / {max_score:g}", (name, shown[name], totals[name])
    assert totals[student][:2] == (27, 27), points[student]
    assert totals[HOSTILE_STUDENT][0] < 27, points[HOSTILE_STUDENT]
    assert all(points[HOSTILE_STUDENT][gid] == 0 for gid in NOT_DONE), points[HOSTILE_STUDENT]
    # Her data and model are right, but her kernel's patched grade() saves no evidence for the
    # judge to re-check: none of it is confirmed, and the feedback says the checks were tampered with.
    messages = cell_messages(lab.course / "autograded" / HOSTILE_STUDENT / ASSIGNMENT / NOTEBOOK)
    for gid in DONE:
        assert points[HOSTILE_STUDENT][gid] == 0, points[HOSTILE_STUDENT]
        assert "tampered with" in messages[gid], messages[gid]
    for name, cells in manual.items():
        flagged = sorted(gid for gid, (_, needs) in cells.items() if needs)
        assert flagged == WRITTEN_ANSWERS, (name, cells)
        assert {kind for gid, (kind, _) in cells.items() if gid in WRITTEN_ANSWERS} == {"markdown"}

    # Manual Grading > assignment > notebook: both submissions, each with "needs manual grade".
    fg.get_by_role("link", name="Manual Grading").click()
    fg.locator("th", has_text="Assignment ID").wait_for()
    fg.locator("#main-table a", has_text=ASSIGNMENT).click()
    fg.locator("th", has_text="Notebook ID").wait_for()
    fg.locator("#main-table a", has_text=ASSIGNMENT).click()
    fg.locator("th", has_text="Submission ID").wait_for()
    rows = fg.locator("#main-table tr")
    rows.filter(has=fg.locator("td.name a")).nth(1).wait_for()
    assert rows.count() == 2
    for i in range(2):
        flag = rows.nth(i).locator("td.needs-manual-grade")
        assert flag.get_attribute("data-search") == "needs manual grade"
        assert flag.locator(".glyphicon-ok").count() == 1
    shot(page, "08b-manual-grading-needs-manual-grade")

    # The honest student's submission (names are hidden: it is found by its gradebook id).
    fg.locator(f"#main-table td.name a.name-hidden[href$='/submissions/{submission_id}']").click()
    verdict = fg.get_by_text(re.compile(r"architecture: [\d.]+ / [\d.]+ points")).first
    verdict.wait_for()
    verdict.evaluate("e => e.scrollIntoView({block: 'center'})")
    shot(page, "09-formgrader-graded-notebook")


def test_formgrader_grades_the_second_assignment_with_its_saved_run(page, lab: Lab) -> None:
    """Both assignments in the Formgrader; Autograde gives a complete second-assignment submission,
    handed in with exercise 10's saved run, every autograded point."""
    from nbgrader.api import Gradebook

    from autograder.host.course import submit
    from autograder.tools.saved_run import make_saved_run

    source = lab.course / "source" / SECOND_ASSIGNMENT / f"{SECOND_ASSIGNMENT}.ipynb"
    handed_in = submit(lab.course, SECOND_ASSIGNMENT, "grace", source)
    make_saved_run(source, handed_in.parent)  # what grace saved in JupyterLab, submitted beside it

    nbgrader_menu(page, "Formgrader")
    fg = page.frame_locator("iframe[src*='formgrader']")
    fg.locator("#main-table tr", has_text=ASSIGNMENT).wait_for()
    row = fg.locator("#main-table tr", has_text=SECOND_ASSIGNMENT)
    row.locator("td.num-submissions", has_text="1").wait_for()
    shot(page, "11-formgrader-both-assignments")
    row.locator("td.num-submissions a").click()
    fg.locator("th", has_text="Student ID").wait_for()
    shown = autograde_in_formgrader(fg, "grace")
    shot(page, "12-formgrader-second-assignment-graded")
    with Gradebook(f"sqlite:///{lab.course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(SECOND_ASSIGNMENT, SECOND_ASSIGNMENT, "grace")
        lost = {g.name: g.score for g in nb.grades if g.cell_type == "code" and g.score < g.max_score}
        totals = (nb.code_score, nb.max_code_score, nb.score, nb.max_score)
    assert lost == {} and totals[:2] == (36, 36), (totals, lost)
    assert shown == f"{totals[2]:g} / {totals[3]:g}"


def test_formgrader_grades_an_instructors_plain_assignment_as_nbgrader_would(page, lab: Lab) -> None:
    """An instructor's own plain nbgrader assignment (``assert`` tests, a hidden test) added to the course.

    Its test cells call no evidence API, so the Autograde button scores them from the sandboxed
    kernel's own output, as nbgrader does: correct work 5/5, wrong work 0, and no output in the
    honest student's graded notebook says "tampered".
    """
    from nbgrader.api import Gradebook

    from autograder.host.course import submit
    from tests import plain_assignment as plain

    name = plain.ASSIGNMENT  # the assignment and its one notebook
    source = plain.write_source(lab.course)
    nbgrader(lab.course, lab.env, "generate_assignment", name, "--force")
    release = lab.course / "release" / name / f"{name}.ipynb"
    work = {"ivy": source, "wes": plain.wrong_answers(release, lab.course.parent / "wes.ipynb")}
    expected = {"ivy": plain.MAX_SCORE, "wes": 0.0}
    for student, notebook in work.items():
        submit(lab.course, name, student, notebook)

    nbgrader_menu(page, "Formgrader")
    fg = page.frame_locator("iframe[src*='formgrader']")
    row = fg.locator("#main-table tr", has_text=name)
    row.locator("td.num-submissions", has_text="2").wait_for()
    row.locator("td.num-submissions a").click()
    fg.locator("th", has_text="Student ID").wait_for()
    shown = {student: autograde_in_formgrader(fg, student) for student in work}
    shot(page, "13-formgrader-plain-assignment-graded")

    with Gradebook(f"sqlite:///{lab.course / 'gradebook.db'}") as gb:
        notebooks = {student: gb.find_submission_notebook(name, name, student) for student in work}
        scores = {student: (nb.score, nb.max_score) for student, nb in notebooks.items()}
    assert scores == {s: (points, plain.MAX_SCORE) for s, points in expected.items()}, scores
    assert shown == {s: f"{points:g} / {plain.MAX_SCORE:g}" for s, points in expected.items()}, shown
    graded = nbformat.read(lab.course / "autograded" / "ivy" / name / f"{name}.ipynb", as_version=4)
    tampered = {c.metadata["nbgrader"]["grade_id"]: c.outputs for c in graded.cells
                if c.cell_type == "code" and "tampered" in json.dumps(c.outputs).lower()}
    assert tampered == {}, f"honest work's outputs say tampered: {tampered}"


def test_instructor_create_assignment_panel(page, lab: Lab) -> None:
    """The source notebook with nbgrader's Create Assignment panel: each cell's grading role and points."""
    open_notebook(page, lab, f"source/{ASSIGNMENT}/{NOTEBOOK}")
    nbgrader_menu(page, "Create assignment")
    page.get_by_text("Total points:").wait_for()
    assert page.locator(".nbgrader-CellWidget").count() == page.locator(".jp-Notebook .jp-Cell").count()
    show(page, cell(page, "def split_train_validation"))
    # The panel's widgets for the solution cell "make_datasets" and the grade cells after it.
    roles = page.evaluate("""() => {
        const w = [...document.querySelectorAll('.nbgrader-CellWidget')];
        const i = w.findIndex(x => [...x.querySelectorAll('input')].some(e => e.value === 'make_datasets'));
        w[i].scrollIntoView({block: 'start'});
        return w.slice(i, i + 3).map(x => x.querySelector('select').selectedOptions[0].textContent);
    }""")
    assert roles == ["Autograded answer", "Read-only", "Autograded tests"], roles
    shot(page, "10-create-assignment")


def test_formgrader_shows_the_names_a_roster_import_brought_in(page, lab: Lab, tmp_path: Path) -> None:
    """``python -m autograder roster import`` puts the roster's names and emails in Manage Students.

    mallory is in the gradebook without a name, as nbgrader's autograde leaves every student it
    meets ("None, None" in the Formgrader); after the import she, the other students who handed
    work in, and a student who has handed in nothing are listed as "Last, First" with their emails.
    """
    from nbgrader.api import Gradebook
    from nbgrader.utils import get_username

    people = {FALLBACK_STUDENT: ("Ada", "Lovelace"), HOSTILE_STUDENT: ("Mallory", "Quinn"),
              "emilie": ("Émilie", "du Châtelet")}  # emilie has submitted nothing
    people.setdefault(get_username(), ("Rosalind", "Franklin"))  # who the student test submitted as
    with Gradebook(f"sqlite:///{lab.course / 'gradebook.db'}") as gb:
        gb.update_or_create_student(HOSTILE_STUDENT)  # as autograde added her (this test alone: now)

    nbgrader_menu(page, "Formgrader")
    fg = page.frame_locator("iframe[src*='formgrader']")
    fg.locator("#main-table tr", has_text=ASSIGNMENT).wait_for()

    def manage_students(listing: str) -> dict[str, tuple[str, str]]:
        """Manage Students, loaded afresh until it lists ``listing``: each roster student's (name, email)."""
        fg.get_by_role("link", name="Manage Students").click()
        rows = fg.locator("#main-table tr").filter(has=fg.locator("td.id"))
        rows.filter(has=fg.locator("td.id", has_text=re.compile(f"^{re.escape(listing)}$"))).wait_for()
        return {row.locator("td.id").inner_text(): (row.locator("td.name").inner_text(),
                                                    row.locator("td.email").inner_text())
                for row in rows.all() if row.locator("td.id").inner_text() in people}

    before = manage_students(HOSTILE_STUDENT)
    assert before[HOSTILE_STUDENT] == ("None, None", "None"), before
    shot(page, "14-students-before-roster-import")

    roster = tmp_path / "roster.csv"
    lines = [f"{sid},{first},{last},{sid}@uni.example\n" for sid, (first, last) in people.items()]
    roster.write_text("id,first_name,last_name,email\n" + "".join(lines), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "autograder", "roster", "import", os.fspath(roster),
                           "--course", os.fspath(lab.course)], env=lab.env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"roster import failed:\n{proc.stdout}\n{proc.stderr}"

    shown = manage_students("emilie")  # only the roster has her: the page is the reloaded one
    shot(page, "15-roster-names-in-formgrader")
    assert shown == {sid: (f"{last}, {first}", f"{sid}@uni.example")
                     for sid, (first, last) in people.items()}, shown
    assert [sid for sid, (name, _) in shown.items() if "None" in name.split(", ")] == [], shown
