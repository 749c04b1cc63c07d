# Two entry points (see README.md): `make demo` runs the main job, `make test` runs the tests.
# Both create .venv and install what they need when it is missing or out of date.
# Offline machines point MNIST_IDX_DIR at a folder with the four MNIST IDX .gz files.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
STAMP := $(VENV)/.installed

.PHONY: demo test data lint clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m mnist_ref prepare-data

demo: data
	$(PY) -m autograder demo --course demo-course

test: data
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .

clean-venv:
	rm -rf $(VENV)
