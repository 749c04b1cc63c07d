"""Sphinx's settings for the course's documentation (``make docs``): MyST Markdown pages.

The settings and command references are generated from the code by ``_ext/reference.py``.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS / "_ext"), str(DOCS.parent)]

project = "MNIST and the batch size: an autograded nbgrader course"
author = "the course's maintainers"
extensions = ["myst_parser", "reference"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "MNIST and the batch size"
