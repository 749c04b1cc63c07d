"""The hub's local Unix accounts (as root): created when missing with private homes, removed by the tests."""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess

from autograder.tools.hub.errors import HubError, run
from autograder.tools.hub.layout import HubLayout


def account_exists(user: str) -> bool:
    """True when a Unix account named ``user`` exists."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def create_accounts(layout: HubLayout, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Create the layout's missing Unix accounts (root only), homes mode 0700.

    Each new account's password (from ``passwords``, else random) is appended to
    ``ROOT/hub/new-passwords`` (root's only) as soon as it is set; returns them.
    """
    created = {}
    for user in layout.users:
        if not account_exists(user):
            run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", user])
            os.chmod(layout.home(user), 0o700)  # no user reads another's home (Debian's default is 0755)
            created[user] = (passwords or {}).get(user) or secrets.token_urlsafe(12)
            run(["chpasswd"], input=f"{user}:{created[user]}\n")
            note_password(layout, user, created[user])
        home = layout.home(user)
        if not home.is_dir() or home.stat().st_mode & 0o077:  # an existing account's home is left as it is
            raise HubError(f"{user}'s home {home} is missing or open to other users: its students' work "
                           f"and the course would be too; `chmod 700 {home}` (or another account)")
    return created


def note_password(layout: HubLayout, user: str, password: str) -> None:
    """Append ``user:password`` to ``ROOT/hub/new-passwords``, readable by root only."""
    path = layout.state / "new-passwords"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    with path.open("a") as out:
        out.write(f"{user}:{password}\n")


def delete_accounts(users: list[str]) -> None:
    """Stop every process of ``users`` and delete their accounts and homes (the tests' clean-up)."""
    for user in users:
        if account_exists(user):
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            subprocess.run(["userdel", "--remove", user], capture_output=True)

