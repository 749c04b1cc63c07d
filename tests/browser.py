"""What the browser tests share: Debian's Chromium, the JupyterLab and Formgrader steps, the submissions.

The students' notebooks: ``answered`` (the reference solution in the release notebook) and
``hostile`` (mallory: the solution without its training, every check patched in her kernel to
claim full marks). tests/test_browser.py drives one lab, tests/test_hub.py a JupyterHub.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat

from tests.helpers import SOURCE_NOTEBOOK

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECOND = 1000  # Playwright timeouts are in milliseconds
# Put at the top of mallory's first answer: every check in her kernel claims full marks.
PATCH_CHECKS = """import autograder.grading as g, autograder.checks as c
from autograder.checks.result import CheckResult, Part
full = lambda *a, **k: CheckResult([Part(True, 'ok')])
for name in dir(c):
    if name.startswith('check_'):
        setattr(c, name, full)
g.run_check = full
g.grade = lambda *a, out_of=1, **k: out_of
g.require = lambda *a, **k: None
"""

def answered(release: Path, target: Path) -> Path:
    """The release notebook with every solution cell replaced by the reference solution."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(SOURCE_NOTEBOOK, as_version=4).cells}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = solutions[meta["grade_id"]].splitlines()
            cell.source = "\n".join(ln for ln in lines if ln.strip() not in
                                    ("### BEGIN SOLUTION", "### END SOLUTION"))
    nbformat.write(nb, target)
    return target


# The grade cells that need a trained model: 0 points for work whose training runs are left undone.
NOT_TRAINED = ("training_history", "test_evaluation", "exercise6_batch_size", "exercise6_full_batch",
               "exercise7_batch_size", "batch_size_trend")


def untrained(release: Path, target: Path) -> Path:
    """The solution without its training runs: cells that call ``train_model(`` keep the release's stub."""
    from autograder.tools.samples import cell_sources, replace_cells

    nb = nbformat.read(release, as_version=4)
    solutions = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    source, stubs = cell_sources(SOURCE_NOTEBOOK), cell_sources(release)
    training = {gid: stubs[gid] for gid in solutions if "train_model(" in source[gid]}
    assert sorted(training) == ["exercise6_run", "exercise7_run", "long_run", "main_run"], sorted(training)
    return replace_cells(answered(release, target), training, target)


def hostile(release: Path, target: Path) -> Path:
    """Mallory's notebook: the solution without its training runs, every kernel check patched to full marks.

    No model is trained (:func:`untrained`); the first cell she completes replaces the checks in
    her kernel, so her own grade cells print full marks.
    """
    untrained(release, target)
    nb = nbformat.read(target, as_version=4)
    first = next(c for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    first.source = PATCH_CHECKS + first.source
    nbformat.write(nb, target)
    return target


def shot(page, folder: Path, name: str) -> Path:
    """Save a screenshot as an artifact in ``folder`` and print where it is."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path)
    print(f"screenshot: {path}")
    return path


def cell(page, text: str):
    """The notebook's code cell whose source contains ``text``."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=text)).first


def show(page, locator) -> None:
    """Scroll ``locator`` to the top of its scroll area and wait until it is painted there."""
    locator.first.wait_for()
    # Off-screen cells are laid out lazily (content-visibility), so one scroll can land short:
    # scroll again after each painted frame until the element stays put.
    locator.first.evaluate("""async e => {
        const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        let top = NaN;
        for (let i = 0; i < 10; i++) {
            e.scrollIntoView({block: 'start'});
            await frame();
            const now = e.getBoundingClientRect().top;
            if (Math.abs(now - top) < 1) break;
            top = now;
        } }""")
    locator.first.wait_for(state="visible")


def nbgrader_menu(page, item: str) -> None:
    """Click Nbgrader > ITEM in JupyterLab's menu bar."""
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def autograde_in_formgrader(fg, student: str) -> str:
    """Click the Autograde button of ``student``'s row in Manage Submissions; the row's score when done."""
    row = fg.locator("#main-table tr", has=fg.locator("td.student-id", has_text=re.compile(f"^{student}$")))
    row.locator("td.autograde a").click()
    modal = fg.locator("#success-modal, #error-modal")
    # nbgrader's Autograde converter runs in the server process: the kernel trains, then the judge.
    modal.wait_for(timeout=600 * SECOND)
    assert modal.get_attribute("id") == "success-modal", f"Autograde of {student}:\n{modal.inner_text()}"
    modal.locator("button.btn-primary").click()
    modal.wait_for(state="detached")
    score = row.locator("td.score")
    score.filter(has_text=re.compile(r"^[\d.]+ / [\d.]+$")).wait_for()
    return score.inner_text()


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float, what: str) -> None:
    """Wait until ``url`` answers; fail the test with the end of ``log`` if ``proc`` ends or time runs out."""
    import pytest

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
