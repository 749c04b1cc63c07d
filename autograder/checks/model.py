"""Checks of the model: the lesson's architecture in any equivalent spelling, and its compile settings."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from autograder.checks.result import CheckResult
from autograder.evidence.facts import merged_layers, model_facts
from mnist_ref.lesson import ADAM_DEFAULT_LEARNING_RATE, BASELINE, NUM_CLASSES, NUM_PIXELS


def loss_expects_logits(compile_config: dict | None) -> bool:
    """True when the compiled loss was told its inputs are logits (from_logits=True)."""
    loss = (compile_config or {}).get("loss")
    return '"from_logits": true' in json.dumps(loss)


def _loss_text(compile_config: dict | None) -> str:
    return json.dumps((compile_config or {}).get("loss")).lower()


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def expected_params(widths: Sequence[int], inputs: int = NUM_PIXELS, outputs: int = NUM_CLASSES) -> int:
    """Parameters of Flatten -> Dense(w) for each width -> Dense(outputs): weights plus biases."""
    sizes = [inputs, *widths, outputs]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))


def _layers_word(n: int) -> str:
    return f"{NUMBER_WORDS.get(n, n)} hidden Dense layer{'s' if n != 1 else ''}"


def check_architecture(model: Any, *, widths: Sequence[int] = BASELINE.widths,
                       activations: Sequence[str] = BASELINE.activations) -> CheckResult:
    """Flatten(28x28x1) -> a Dense layer per width with its activation -> Dense(10, softmax).

    By default the lesson's model: two Dense(50, relu), 42,310 parameters.  Accepts
    Flatten(input_shape=...) or Input + Flatten, activation strings or functions, and separate
    Activation/ReLU/Softmax layers; a logits output only with a from_logits=True loss.
    """
    r = CheckResult()
    widths, activations = list(widths), list(activations)
    facts = model_facts(model)
    steps = merged_layers(facts["layers"])
    shape = facts["input_shape"]
    r.add(shape == [28, 28, 1], "the model takes 28x28x1 images",
          f"the model's input shape is {shape}; expected (28, 28, 1): start with "
          "tf.keras.Input(shape=(28, 28, 1)) or Flatten(input_shape=(28, 28, 1))")
    r.add(bool(steps) and steps[0]["type"] == "flatten", "the first layer flattens each image",
          "the first layer is not Flatten; expected Flatten() to turn each 28x28x1 image into "
          "784 inputs")
    dense = [s for s in steps if s["type"] == "dense"]
    others = [s["type"] for s in steps[1:] if s["type"] != "dense"]
    hidden, output = dense[:-1], (dense[-1] if dense else None)
    r.add(len(hidden) == len(widths) and not others, _layers_word(len(widths)),
          f"the model has {len(hidden)} hidden Dense layer(s)"
          + (f" and other layers {others}" if others else "")
          + f"; expected exactly {len(widths)} hidden Dense layers", weight=2)
    got = [s["units"] for s in hidden]
    same_width = len(set(widths)) == 1
    r.add(got == widths if not same_width else bool(hidden) and all(w == widths[0] for w in got),
          f"hidden layers have {widths[0]} units each" if same_width else f"hidden layer widths are {widths}",
          f"hidden layer widths are {got}; expected "
          + (f"{widths[0]} units in each hidden layer" if same_width else f"{widths}"), weight=3)
    acts = [s["activation"] for s in hidden]
    same_act = len(set(activations)) == 1
    r.add(acts == activations if not same_act else bool(hidden) and all(a == activations[0] for a in acts),
          f"hidden layers use {activations[0]}" if same_act
          else f"hidden layer activations are {activations}",
          f"hidden layer activations are {acts}; expected "
          + (f"'{activations[0]}' in each hidden layer" if same_act else f"{activations}, in that order"),
          weight=3)
    if output is None or output["units"] != 10:
        r.add(False, "", f"the output layer has {output['units'] if output else 'no'} units; "
              "expected Dense(10) with softmax, one output per digit", weight=2)
    elif output["activation"] == "softmax":
        r.add(True, "the output is Dense(10) with softmax", "", weight=2)
    elif output["activation"] == "linear" and loss_expects_logits(facts["compile"]):
        r.add(True, "the output is Dense(10) logits with a from_logits=True loss (equivalent)", "", weight=2)
    elif output["activation"] == "linear":
        r.add(False, "", "the output layer produces logits (no softmax) but the loss expects "
              "probabilities; expected activation='softmax' on the last Dense(10) (or a loss "
              "with from_logits=True)", weight=2)
    else:
        r.add(False, "", f"the output activation is {output['activation']!r}; expected 'softmax'", weight=2)
    params, wanted = facts["params"], expected_params(widths)
    r.add(params == wanted, f"{wanted:,} parameters (follows from the layers above: no points of its own)",
          f"the model has {params if params is None else format(params, ',')} parameters; "
          f"expected {wanted:,} (follows from the layers above: no points of its own)", weight=0)
    return r


def check_compile(model: Any, *, learning_rate: float = ADAM_DEFAULT_LEARNING_RATE) -> CheckResult:
    """optimizer='adam' (by default its default learning rate), sparse categorical cross-entropy, accuracy."""
    r = CheckResult()
    facts = model_facts(model)
    config = facts["compile"]
    if config is None:
        return r.fail("the model is not compiled; expected model.compile(optimizer='adam', "
                      "loss='sparse_categorical_crossentropy', metrics=['accuracy'])", weight=4)
    optimizer = config.get("optimizer") or {}
    name = optimizer.get("class_name") if isinstance(optimizer, dict) else str(optimizer)
    adam = str(name).lower() == "adam"
    r.add(adam, "the optimizer is Adam",
          f"the optimizer is {name}; expected 'adam' (adaptive moment estimation)", weight=3)
    lr = (optimizer.get("config") or {}).get("learning_rate") if isinstance(optimizer, dict) else None
    lr_ok = isinstance(lr, (int, float)) and math.isclose(lr, learning_rate, rel_tol=1e-4)
    shown = f"{lr:.6g}" if isinstance(lr, (int, float)) else repr(lr)
    default = learning_rate == ADAM_DEFAULT_LEARNING_RATE
    if adam:
        r.add(lr_ok, f"with the {'default ' if default else ''}learning rate {learning_rate:g}",
              f"the learning rate is {shown}; expected "
              + (f"Adam's default {learning_rate:g}" if default else f"{learning_rate:g}"))
    else:  # a mistake costs once: another optimizer's learning rate is not charged again
        r.add(True, "the learning rate is not judged for another optimizer (see above)", "")
    loss = _loss_text(config)
    sparse = "sparse_categorical_crossentropy" in loss or "sparsecategoricalcrossentropy" in loss
    hint = (" categorical_crossentropy expects one-hot labels, but MNIST's labels are integers"
            if "categorical_crossentropy" in loss or "categoricalcrossentropy" in loss else "")
    r.add(sparse, "the loss is sparse categorical cross-entropy",
          f"the loss is {json.loads(loss) if loss != 'null' else None}; expected "
          f"'sparse_categorical_crossentropy'.{hint}", weight=2)
    output = next((s for s in reversed(merged_layers(facts["layers"])) if s["type"] == "dense"), None)
    softmax_out = output is not None and output["activation"] == "softmax"
    r.add(not (softmax_out and loss_expects_logits(config)),
          "the loss matches the output (probabilities)",
          "the loss has from_logits=True but the model already outputs softmax probabilities; "
          "expected from_logits=False (the default) with a softmax output")
    metrics = json.dumps(config.get("metrics")).lower()
    ok = any(m in metrics for m in ('"accuracy"', '"acc"', "sparse_categorical_accuracy",
                                    "sparsecategoricalaccuracy"))
    r.add(ok, "accuracy is a metric",
          f"the metrics are {config.get('metrics')}; expected metrics=['accuracy']")
    return r
