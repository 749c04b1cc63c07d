"""Checks of the model: the lesson's architecture in any equivalent spelling, and its compile settings."""

from __future__ import annotations

import json
from typing import Any

from autograder.checks.result import CheckResult
from autograder.evidence.facts import merged_layers, model_facts
from mnist_ref.lesson import ADAM_DEFAULT_LEARNING_RATE, HIDDEN_LAYERS, HIDDEN_UNITS, PARAMS


def loss_expects_logits(compile_config: dict | None) -> bool:
    """True when the compiled loss was told its inputs are logits (from_logits=True)."""
    loss = (compile_config or {}).get("loss")
    return '"from_logits": true' in json.dumps(loss)


def _loss_text(compile_config: dict | None) -> str:
    return json.dumps((compile_config or {}).get("loss")).lower()


def check_architecture(model: Any) -> CheckResult:
    """Flatten(28x28x1) -> Dense(50, relu) -> Dense(50, relu) -> Dense(10, softmax): 42,310 parameters.

    Accepts Flatten(input_shape=...) or Input + Flatten, activation strings or functions, and
    separate Activation/ReLU/Softmax layers; a logits output only with a from_logits=True loss.
    """
    r = CheckResult()
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
    r.add(len(hidden) == HIDDEN_LAYERS and not others, "two hidden Dense layers",
          f"the model has {len(hidden)} hidden Dense layer(s)"
          + (f" and other layers {others}" if others else "")
          + f"; expected exactly {HIDDEN_LAYERS} hidden Dense layers", weight=2)
    widths = [s["units"] for s in hidden]
    r.add(bool(hidden) and all(w == HIDDEN_UNITS for w in widths),
          f"hidden layers have {HIDDEN_UNITS} units each",
          f"hidden layer widths are {widths}; expected {HIDDEN_UNITS} units in each hidden layer", weight=3)
    acts = [s["activation"] for s in hidden]
    r.add(bool(hidden) and all(a == "relu" for a in acts), "hidden layers use relu",
          f"hidden layer activations are {acts}; expected 'relu' in each hidden layer", weight=3)
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
    params = facts["params"]
    r.add(params == PARAMS, f"{PARAMS:,} parameters (follows from the layers above: no points of its own)",
          f"the model has {params if params is None else format(params, ',')} parameters; "
          f"expected {PARAMS:,} (follows from the layers above: no points of its own)", weight=0)
    return r


def check_compile(model: Any) -> CheckResult:
    """optimizer='adam' (default learning rate), sparse categorical cross-entropy, accuracy."""
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
    lr_ok = isinstance(lr, (int, float)) and abs(lr - ADAM_DEFAULT_LEARNING_RATE) < 1e-6
    shown = f"{lr:.6g}" if isinstance(lr, (int, float)) else repr(lr)
    if adam:
        r.add(lr_ok, f"with the default learning rate {ADAM_DEFAULT_LEARNING_RATE}",
              f"the learning rate is {shown}; expected Adam's default {ADAM_DEFAULT_LEARNING_RATE}")
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
