"""``python -m autograder``: the instructor's commands (:mod:`autograder.tools.cli`)."""

import sys

from autograder.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
