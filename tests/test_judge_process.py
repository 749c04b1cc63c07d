"""``python -m autograder.judge EVIDENCE CELLS``, run as the host runs it, on evidence written in the test."""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.evidence import write as evidence
from autograder.evidence.records import ENV_DIR
from tests.helpers import run_module

IMPORTS = "from autograder import checks\nfrom autograder.grading import grade, require, var\n\n"

# (grade_id, points, source): written like the notebook's grade cells (hidden tests included).
CELLS = [
    ("architecture", 3, IMPORTS + "grade(checks.check_architecture, globals(), out_of=3)"),
    ("slowest_per_epoch", 1,
     'require(checks.check_choice, globals(), answer=var("slowest_batch_per_epoch"),\n'
     '        choices=[1, 100, 10_000], name="slowest_batch_per_epoch")\n'
     'grade(checks.check_value, globals(), out_of=1, answer=var("slowest_batch_per_epoch"), expected=1,\n'
     '      name="slowest_batch_per_epoch", why="54,000 updates per epoch against 540 and 6")'),
    ("highest_val_accuracy", 1,
     'require(checks.check_choice, globals(), answer=var("highest_val_accuracy_batch"),\n'
     '        choices=[1, 100, 10_000], name="highest_val_accuracy_batch")\n'
     'grade(checks.check_value, globals(), out_of=1, answer=var("highest_val_accuracy_batch"),\n'
     '      expected=100, name="highest_val_accuracy_batch", why="batch 100 reaches about 0.97")'),
    ("updates_per_epoch", 2,
     'require(checks.check_function_cases, globals(), function=var("updates_per_epoch"),\n'
     '        cases={100: 540}, name="updates_per_epoch")\n'
     'grade(checks.check_function_cases, globals(), out_of=2, function=var("updates_per_epoch"),\n'
     '      name="updates_per_epoch", cases={1: 54_000, 10_000: 6, 30_000: 2, 7: 7_715})'),
    ("floor_updates", 2,
     'grade(checks.check_function_cases, globals(), out_of=2, function=var("floor_updates"),\n'
     '      name="floor_updates", cases={1: 54_000, 10_000: 6, 30_000: 2, 7: 7_715})'),
    ("format_check", 1,
     'require(checks.check_choice, globals(), answer=var("highest_val_accuracy_batch"),\n'
     '        choices=[1, 100], name="highest_val_accuracy_batch")'),
    ("training_history", 2, "grade(checks.check_training_history, globals(), out_of=2)"),
    ("scaling", 2, 'grade(checks.check_scaling, globals(), out_of=2, train_data=var("broken_data"))'),
]


def _notebook_variables() -> dict:
    """A student's answers: a right model, answers right and wrong, functions, a broken dataset."""
    import tensorflow as tf

    from mnist_ref.model import build_model, compile_model

    nan_images = tf.data.Dataset.from_tensor_slices(np.full((4, 28, 28, 1), np.nan, np.float32))
    return {
        "model": compile_model(build_model()),
        "slowest_batch_per_epoch": 1,
        "highest_val_accuracy_batch": 10_000,
        "updates_per_epoch": lambda batch_size, num_train=54_000: math.ceil(num_train / batch_size),
        "floor_updates": lambda batch_size: 54_000 // batch_size,
        "broken_data": nan_images.map(lambda x: (tf.debugging.check_numerics(x, "pixels are NaN"), 0)),
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list[dict]]:
    """An evidence folder the kernel's writer filled, and the grade cells as the host sends them."""
    folder = tmp_path_factory.mktemp("evidence")
    with pytest.MonkeyPatch.context() as mp:  # as grade() does in the kernel, under the sandbox
        mp.setenv(ENV_DIR, str(folder))
        mp.setattr(evidence, "_exported", {})
        for name, value in _notebook_variables().items():
            evidence.write(name, value)
    return folder, [{"grade_id": g, "max_points": p, "source": s} for g, p, s in CELLS]


@pytest.fixture(scope="module")
def judged(written, tmp_path_factory) -> dict[str, tuple[float, str]]:
    """The judge's verdicts {grade_id: (points, message)}, from its JSON on stdout."""
    folder, cells = written
    cells_file = tmp_path_factory.mktemp("cells") / "cells.json"
    cells_file.write_text(json.dumps(cells))
    proc = run_module("autograder.judge", str(folder), str(cells_file), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {grade_id: (points, message) for grade_id, (points, message) in json.loads(proc.stdout).items()}


def test_the_judge_prints_one_verdict_per_cell(judged):
    assert list(judged) == [g for g, _, _ in CELLS]


def test_right_answers_get_full_points(judged):
    assert judged["architecture"][0] == 3 and "two hidden Dense layers" in judged["architecture"][1]
    points, message = judged["slowest_per_epoch"]
    assert points == 1 and message.endswith("value: 1 / 1 points\n  ✔ slowest_batch_per_epoch is right (1)")
    assert judged["updates_per_epoch"][0] == 2


def test_a_wrong_answer_gets_zero_and_the_expected_value(judged):
    points, message = judged["highest_val_accuracy"]
    assert points == 0
    assert "expected 100 (batch 100 reaches about 0.97)" in message


def test_a_partly_wrong_function_gets_partial_credit_naming_each_wrong_case(judged):
    points, message = judged["floor_updates"]
    assert points == 0.5  # 1 of 4 cases right
    assert "✔ floor_updates(1) == 54000" in message
    assert "✘ floor_updates(30000) returned 1; expected 2" in message


def test_a_missing_variable_gets_zero_and_says_it_is_not_defined(judged):
    points, message = judged["training_history"]
    assert points == 0
    assert message.startswith("training history: 0 / 2 points\n  ✘ `history_100`, `model_100`, ")
    assert "are not defined, so this could not be checked" in message


def test_a_cell_that_raises_gets_zero_with_the_error(judged):
    points, message = judged["format_check"]
    assert points == 0
    assert "AssertionError: ✘ highest_val_accuracy_batch is" in message
    assert "expected one of [1, 100]" in message


def test_evidence_that_could_not_be_written_gets_zero_with_the_reason(judged):
    points, message = judged["scaling"]
    assert points == 0
    assert "`broken_data` could not be saved for grading: InvalidArgumentError" in message



# ------------------------------------------- the judge as the host runs it: started with the kernel


def _judge(evidence: Path, requests: Path, **settings: float):
    from autograder.host.settings import SafeGrading
    from autograder.host.submission import Judge

    return Judge(SafeGrading(**settings), evidence, requests)


def test_a_judge_started_before_the_kernel_gives_the_same_verdicts_and_ends(written, judged, tmp_path):
    folder, cells = written
    judge = _judge(folder, tmp_path)
    verdicts, failure = judge.verdicts(cells)
    assert failure is None
    assert verdicts == {g: (float(points), message) for g, (points, message) in judged.items()}
    assert judge.process.poll() == 0


def test_the_judge_process_runs_sandboxed_with_none_of_the_graders_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET", "s3cr3t")
    judge = _judge(tmp_path, tmp_path)
    try:
        children = Path(f"/proc/{judge.process.pid}/task/{judge.process.pid}/children")
        for _ in range(600):  # bubblewrap starts the judge in its namespaces (slower on a busy machine);
            pids = children.read_text().split()  # its child has bwrap's empty environment until it execs
            if pids and Path(f"/proc/{pids[0]}/environ").read_bytes():
                break
            time.sleep(0.05)
        (pid,) = children.read_text().split()
        environ = dict(v.split("=", 1) for v in Path(f"/proc/{pid}/environ").read_text().split("\0") if v)
        assert "INSTRUCTOR_SECRET" not in environ and environ["HOME"] == "/tmp", environ
        assert Path(f"/proc/{pid}/ns/net").readlink() != Path("/proc/self/ns/net").readlink()  # no network
    finally:
        judge.close()


def test_a_judge_never_asked_is_stopped_by_close_or_when_forgotten(tmp_path):
    judge = _judge(tmp_path, tmp_path)
    judge.close()
    assert judge.process.poll() is not None
    forgotten = _judge(tmp_path, tmp_path)
    process = forgotten.process
    del forgotten
    gc.collect()
    assert process.poll() is not None


def test_a_judge_that_died_before_judging_scores_nothing_and_says_so(written, tmp_path):
    folder, cells = written
    judge = _judge(folder, tmp_path)
    judge.process.kill()
    judge.process.wait()
    verdicts, failure = judge.verdicts(cells)
    assert failure
    assert set(verdicts) == {c["grade_id"] for c in cells}
    assert set(verdicts.values()) == {(0.0, "not graded: the judge failed")}


def test_a_judge_over_its_time_limit_is_stopped_and_scores_nothing(written, tmp_path):
    folder, cells = written
    judge = _judge(folder, tmp_path, judge_timeout=0.05)  # still loading TensorFlow when asked
    verdicts, failure = judge.verdicts(cells)
    assert failure == "it did not finish within 0.05 s"
    assert judge.process.poll() is not None
    assert all(points == 0 for points, _ in verdicts.values())


# Stands for bwrap: its inner child (the background sleep) waits forever, as bwrap's does when
# bwrap is killed just after it started (bubblewrap issue 633: no parent-death signal set yet).
FAKE_BWRAP = """#!/bin/sh
sleep 600 &
echo $! > "$(dirname "$0")/inner.pid"
exec sleep 600
"""


def test_closing_a_judge_ends_what_its_sandbox_left_waiting_too(tmp_path, monkeypatch):
    """close() kills the judge's whole process group, not only bwrap."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "bwrap").write_text(FAKE_BWRAP)
    (tools / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    judge = _judge(tmp_path, tmp_path)
    deadline = time.monotonic() + 30
    while not (tools / "inner.pid").is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    inner = int((tools / "inner.pid").read_text())
    judge.close()
    assert judge.process.poll() is not None
    deadline = time.monotonic() + 10
    while _alive(inner) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(inner):
        os.kill(inner, signal.SIGKILL)
        pytest.fail("the sandbox's waiting child outlived close()")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (not gone, not a zombie left for init to reap)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
