"""Everything the hub needs before it starts, in order: names, tools, accounts, environment, data, course."""

from __future__ import annotations

import os
import secrets
import shutil

from autograder.tools.hub import config
from autograder.tools.hub.accounts import create_accounts, note_password
from autograder.tools.hub.course import install_course, write_user_config
from autograder.tools.hub.data import share_dataset
from autograder.tools.hub.environment import build_env, packaged_solutions
from autograder.tools.hub.errors import HubError
from autograder.tools.hub.layout import HubLayout, check_names


def prepare(layout: HubLayout, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Make everything the hub needs; returns the passwords of accounts (or the dev password) made now."""
    check_names(layout)
    if not config.PROXY.is_file():
        raise HubError(f"JupyterHub's proxy is missing ({config.PROXY}): in a checkout run `make hub-tools` "
                       "(npm ci), else `npm install -g configurable-http-proxy`")
    if not shutil.which("bwrap"):
        raise HubError("bubblewrap is missing for the Formgrader's sandbox: run `make sandbox-tools`")
    as_root = os.geteuid() == 0
    if not layout.dev and not as_root:
        raise HubError("local Unix accounts need root: run as root, or pass --dev for one-account "
                       "development mode (DummyAuthenticator, no isolation between users)")
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)
    layout.state.mkdir(exist_ok=True)
    layout.state.chmod(0o700)  # the hub's database and cookie secret: the hub's own
    new = {}
    if layout.dev:
        secret = layout.state / "dev-password"
        if not secret.is_file():
            secret.touch(mode=0o600)
            secret.write_text(secrets.token_urlsafe(12) + "\n")
            new["any user"] = secret.read_text().strip()
            note_password(layout, "any user", new["any user"])
        for user in layout.users:
            layout.home(user).mkdir(parents=True, exist_ok=True)
    else:
        new = create_accounts(layout, passwords)
        build_env(layout)
        share_dataset(layout)
    layout.exchange.mkdir(exist_ok=True)
    layout.exchange.chmod(0o1777)  # nbgrader's exchange: everyone writes, nobody removes others' files
    for user in layout.users:
        write_user_config(layout, user)
    install_course(layout)
    if not layout.dev and packaged_solutions(layout.python_env):  # an installed wheel, shared by all
        raise HubError(f"the students' servers would run {layout.python_env}, which holds the course's "
                       "solutions: the course is now in the instructor's home, so run `mnist-autograder "
                       "remove-solutions` with that environment's Python, then start the hub again")
    return new

