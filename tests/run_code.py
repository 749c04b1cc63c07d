"""Run a snippet of Python given as argv[1] (lets tests use ``python -m tests.run_code``)."""

import sys

from mnist_ref import quiet_tensorflow

quiet_tensorflow()
exec(compile(sys.argv[1], "<test snippet>", "exec"))
