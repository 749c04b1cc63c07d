# Two entry points (see README.md): `make demo` runs the main job, `make test` runs the tests.
# Both create .venv and install what they need when it is missing or out of date.
# Offline machines point MNIST_IDX_DIR at a folder with the four MNIST IDX .gz files.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast docs data lint clean-venv lab hub sandbox-tools browser-tools postgres-tools hub-tools

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m mnist_ref prepare-data

# The grader runs students' kernels under bubblewrap and prlimit (autograder/host/sandbox.py).
sandbox-tools:
	@command -v bwrap >/dev/null && command -v prlimit >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap util-linux; \
	  else echo "Install bubblewrap and util-linux (sudo apt-get install bubblewrap) to grade safely"; exit 1; fi; }

# The browser tests drive Debian's Chromium (tests/test_browser.py); nothing is downloaded.
browser-tools:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests"; exit 1; fi; }

# The tests start a real PostgreSQL server (tests/postgres.py): Debian's server programs.
postgres-tools:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	  else echo "Install PostgreSQL's server (sudo apt-get install postgresql) for the gradebook tests"; exit 1; fi; }

# JupyterHub's proxy, configurable-http-proxy, from npm (package.json, package-lock.json), into node_modules/.
PROXY := node_modules/.bin/configurable-http-proxy
hub-tools: $(PROXY)
$(PROXY): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Install Node.js 20+ and npm (apt-get install nodejs npm) for the hub's proxy"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: data sandbox-tools
	$(PY) -m autograder demo --course demo-course

# JupyterLab for the course with nbgrader's extensions (autograder/tools/lab.py); LAB_ARGS e.g. --port 8890 --no-browser
lab: data
	$(PY) -m autograder.tools.lab $(LAB_ARGS)

# The course on JupyterHub (autograder/tools/hub/), on 127.0.0.1:8000; HUB_ARGS e.g. --dev --port 8010
hub: data sandbox-tools hub-tools
	$(PY) -m autograder.tools.hub $(HUB_ARGS)

# Two pytest-xdist workers, each a lane of whole modules (tests/conftest.py, LANE_A).
test: lint data sandbox-tools browser-tools postgres-tools hub-tools docs
	$(PY) -m pytest -n 2 --dist loadscope --durations=25

# The fast tier: no real MNIST (TFDS's mock data instead), no training, no browser, no
# database server; under a minute, in two pytest-xdist workers (a module stays on one worker).
test-fast: lint
	$(PY) -m pytest -n 2 --dist loadfile -m "not training and not slow and not browser and not mnist and not postgres"

# The documentation (docs/, MyST Markdown), warnings as errors; its references are generated from the code.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# ruff, and the layer contracts (pyproject.toml's import-linter section); `test` and `test-fast` run it first.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

clean-venv:
	rm -rf $(VENV)
