"""Exercise 10's saved run: how it travels as evidence, and why a doctored one earns nothing more.

Honest twin: a real network trained until it scores 0.97-0.98 (below the 0.98 target), saved with
its true history, against the same weights saved with a history that claims 0.98.  The test
set alone cannot tell them apart (0.975 is within 0.01 of 0.98); the judge's own evaluation on
the student's validation images can.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.checks import check_best_run
from autograder.evidence.records import DatasetEvidence, SavedRun

CONFIG = {"hidden_layer_size": 512, "depth": 2, "activation": "relu", "learning_rate": 0.001,
          "batch_size": 100, "epochs": 2}


def test_a_saved_run_travels_as_plain_arrays_and_json(tmp_path, monkeypatch):
    from autograder.evidence import read, write

    monkeypatch.setenv("AUTOGRADER_EVIDENCE_DIR", str(tmp_path))
    weights = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)]
    write.write("best_run", SavedRun(dict(CONFIG), {"val_accuracy": [0.5]}, weights, 0.9, 0.9))
    loaded = read.load(tmp_path)["best_run"]
    assert loaded.config == CONFIG and loaded.history == {"val_accuracy": [0.5]}
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, weights, strict=True))
    assert loaded.test_accuracy is None and loaded.validation_accuracy is None  # the judge's own, later


@pytest.fixture(scope="module")
def one_epoch_run():
    """A 512x2 network trained on MNIST minus its first 6,000 images (which validate it) until it
    scores 0.97-0.98 on them: close to the target, below it."""
    import tensorflow as tf

    from autograder.evidence.write import fingerprint_rows
    from mnist_ref import decoded_cache
    from mnist_ref.model import build_model, compile_model
    from mnist_ref.offline_data import prepared_dataset_dir

    decoded = decoded_cache.load(prepared_dataset_dir())
    images = decoded.x_train.astype(np.float32) / np.float32(255.0)
    tf.keras.utils.set_random_seed(0)
    model = compile_model(build_model(512, 2))
    for _ in range(6):
        model.fit(images[6000:], decoded.y_train[6000:], batch_size=100, epochs=1, verbose=0)
        predicted = np.asarray(model(images[:6000], training=False)).argmax(axis=-1)
        accuracy = float((predicted == decoded.y_train[:6000]).mean())
        if accuracy > 0.97:
            break
    prints = np.asarray(fingerprint_rows(images[:6000]), dtype=np.uint64)
    validation = DatasetEvidence("validation_data", {}, [prints, prints])
    return model, accuracy, validation


def _judged(model, validation, val_history: list[float]) -> float:
    """Points the judge gives exercise 10 for these weights saved with this history."""
    from autograder.judge.saved_runs import verify_saved_runs

    run = SavedRun(dict(CONFIG), {"val_accuracy": val_history}, [np.asarray(w) for w in model.get_weights()])
    verify_saved_runs({"validation_data": validation, "best_run": run})
    graded = SimpleNamespace(params={"epochs": 1, "steps": 540}, history={"val_accuracy": val_history[:1]})
    return check_best_run(model, graded, run).points(4)


@pytest.mark.training
@pytest.mark.mnist
@pytest.mark.usefixtures("prepared_mnist")
def test_a_doctored_history_earns_no_more_than_its_honest_twin(one_epoch_run, monkeypatch):
    model, accuracy, validation = one_epoch_run
    assert 0.971 < accuracy < 0.98, accuracy  # a real run that misses the target, close to it
    honest = _judged(model, validation, [accuracy, accuracy])
    doctored = _judged(model, validation, [accuracy, 0.98])
    assert honest == 3 and doctored <= honest
    # Break it once: without the comparison on the validation images the claim would pass.
    from autograder.checks import bands

    monkeypatch.setattr(bands, "EXERCISE10_VALIDATION_TOLERANCE", 1.0)
    assert _judged(model, validation, [accuracy, 0.98]) > honest


def test_settings_that_name_a_huge_network_without_its_weights_are_refused_before_building():
    from mnist_ref.model import model_with_weights

    small = [np.zeros((784, 4), np.float32), np.zeros(4, np.float32), np.zeros((4, 10), np.float32),
             np.zeros(10, np.float32)]
    assert model_with_weights([4], ["relu"], small).count_params() == 784 * 4 + 4 + 4 * 10 + 10
    with pytest.raises(ValueError, match="do not fit"):
        model_with_weights([10**9, 10**9], ["relu", "relu"], small)  # would be 10^18 weights if built


def test_a_damaged_saved_run_is_refused_with_what_to_do(tmp_path):
    from autograder.notebook import load_saved_run

    damaged = tmp_path / "exercise10_run.npz"
    damaged.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="not a run saved by save_run.*run the exercise-10 cell again"):
        load_saved_run(path=str(damaged))
    assert load_saved_run(path=str(tmp_path / "missing.npz")) is None


PROBE = {"grade_id": "probe", "max_points": 1,
         "source": "print(type(best_run).__name__, getattr(best_run, 'config', None) or best_run.reason)"}
EXERCISE10 = {"grade_id": "exercise10", "max_points": 4,
              "source": "grade(checks.check_best_run, globals(), out_of=4)"}


def _save_file(folder, model, config, history) -> None:
    """exercise10_run.npz as the notebook's save_run writes it in JupyterLab."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    weights = {f"arr_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    np.savez_compressed(folder / "exercise10_run.npz", **weights, config=np.array(json.dumps(config)),
                        history=np.array(json.dumps(history)))


@pytest.mark.usefixtures("prepared_mnist")
def test_a_saved_run_made_in_the_kernel_without_the_handed_in_file_earns_no_more_than_its_twin(
        one_epoch_run, tmp_path, monkeypatch):
    """The kernel builds a SavedRun of its own (claiming 0.99); no exercise10_run.npz was handed in."""
    from autograder.evidence import write
    from autograder.judge.cells import judge

    model, _, validation = one_epoch_run
    forged, twin = tmp_path / "forged", tmp_path / "twin"
    for folder, runs in ((forged, True), (twin, False)):
        folder.mkdir()
        monkeypatch.setenv("AUTOGRADER_EVIDENCE_DIR", str(folder))
        monkeypatch.setattr(write, "_exported", {})
        write.write("validation_data", validation)
        write.write("best_run", SavedRun(dict(CONFIG), {"val_accuracy": [0.97, 0.99]}, model.get_weights())
                    if runs else None)
    handed_in = tmp_path / "nothing-handed-in"
    handed_in.mkdir()
    verdicts = {name: judge(folder, [PROBE, EXERCISE10], handed_in) for name, folder in
                (("forged", forged), ("twin", twin))}
    assert verdicts["forged"]["probe"][1].startswith("MissingEvidence has no exercise10_run.npz handed in")
    assert verdicts["forged"]["exercise10"][0] <= verdicts["twin"]["exercise10"][0] == 0


@pytest.mark.usefixtures("prepared_mnist")
def test_the_judge_takes_exercise_10_from_the_handed_in_file_whatever_the_kernel_saved(
        one_epoch_run, tmp_path, monkeypatch):
    from autograder.evidence import write
    from autograder.judge.cells import judge

    model, accuracy, _ = one_epoch_run
    evidence, handed_in = tmp_path / "evidence", tmp_path / "handed-in"
    evidence.mkdir()
    monkeypatch.setenv("AUTOGRADER_EVIDENCE_DIR", str(evidence))
    monkeypatch.setattr(write, "_exported", {})
    write.write("best_run", SavedRun({**CONFIG, "epochs": 99}, {"val_accuracy": [0.99]}, model.get_weights()))
    _save_file(handed_in, model, CONFIG, {"val_accuracy": [accuracy]})
    message = judge(evidence, [PROBE], handed_in)["probe"][1]
    assert message.startswith("SavedRun") and "'epochs': 2" in message and "99" not in message


@pytest.mark.mnist
@pytest.mark.usefixtures("prepared_mnist")
def test_validation_images_are_found_scaled_or_not_and_returned_in_their_own_scale():
    """A pipeline that skips scaling (charged in its own cell) still has its runs re-scored exactly."""
    from autograder.evidence.write import fingerprint_rows
    from autograder.judge.saved_runs import training_images, validation_images

    raw, labels, _ = training_images()
    picked = {False: raw[100:300], True: raw[100:300] / np.float32(255.0)}
    for scaled, images in picked.items():
        prints = np.asarray(fingerprint_rows(images), dtype=np.uint64)
        found = validation_images(DatasetEvidence("validation_data", {}, [prints, prints]))
        assert found is not None and found[2] is scaled
        assert np.array_equal(found[0], images) and np.array_equal(found[1], labels[100:300])
    mixed = np.asarray(fingerprint_rows(picked[False][:100]) + fingerprint_rows(picked[True][100:]),
                       dtype=np.uint64)
    assert validation_images(DatasetEvidence("validation_data", {}, [mixed, mixed])) is None
