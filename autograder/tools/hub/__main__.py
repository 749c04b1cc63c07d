"""``python -m autograder.tools.hub`` (``make hub``)."""

import sys

from autograder.tools.hub.cli import main

sys.exit(main())
