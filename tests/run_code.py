"""Run a snippet of Python given as argv[1] (lets tests use ``python -m tests.run_code``)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
exec(compile(sys.argv[1], "<test snippet>", "exec"))
