"""Who uses the hub and where everything goes (:class:`HubLayout`), saved for jupyterhub_config.py."""

from __future__ import annotations

import json
import os
import pwd
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.host.course import CHECKOUT, TEMPLATE
from autograder.tools.hub.errors import HubError

COURSE_ID = "mnist-batch-size"
FROM_CHECKOUT = TEMPLATE == CHECKOUT  # else an installed package: no pyproject.toml, no node_modules/
USER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class HubLayout:
    """Who uses the hub and where everything goes; saved as ``ROOT/hub/layout.json``."""

    root: Path
    instructor: str = "mnist-instructor"
    students: tuple[str, ...] = ("mnist-student1", "mnist-student2")
    port: int = 8000  # the proxy's public port; its API, the hub and the feedback service use the next three
    dev: bool = False  # one Unix user for all (DummyAuthenticator, SimpleLocalProcessSpawner)
    env: Path | None = None  # the users' Python environment; default ROOT/env (dev, or installed: this one)

    @property
    def users(self) -> tuple[str, ...]:
        return (self.instructor, *self.students)

    @property
    def python_env(self) -> Path:
        if self.env is not None:
            return Path(self.env)
        return Path(sys.prefix) if self.dev or not FROM_CHECKOUT else self.root / "env"

    @property
    def data(self) -> Path:
        return self.root / "tensorflow_datasets"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def state(self) -> Path:
        return self.root / "hub"

    def jupyter_config(self, user: str) -> Path:
        return self.root / "jupyter" / user

    def home(self, user: str) -> Path:
        if self.dev:
            return self.root / "home" / user
        return Path(pwd.getpwnam(user).pw_dir)

    @property
    def course(self) -> Path:
        return self.home(self.instructor) / COURSE_ID

    def save(self) -> Path:
        """Write the layout where jupyterhub_config.py finds it; returns the file."""
        self.state.mkdir(parents=True, exist_ok=True)
        data = {k: (os.fspath(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        path = self.state / "layout.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> HubLayout:
        data = json.loads(Path(path).read_text())
        return cls(root=Path(data["root"]), instructor=data["instructor"], students=tuple(data["students"]),
                   port=int(data["port"]), dev=bool(data["dev"]),
                   env=Path(data["env"]) if data.get("env") else None)


def check_names(layout: HubLayout) -> None:
    """HubError unless every user name is a plain Unix login name, given once, with a student."""
    names = layout.users
    bad = [n for n in names if not USER_NAME.fullmatch(n)]
    if bad:
        raise HubError(f"{', '.join(map(repr, bad))}: a user name is lower-case letters, digits, '-' "
                       "and '_', starting with a letter (nbgrader and useradd both need that)")
    if len(set(names)) != len(names) or not layout.students:
        raise HubError(f"the instructor and the students must be different people, with at least one "
                       f"student: got instructor {layout.instructor!r}, students {list(layout.students)}")

