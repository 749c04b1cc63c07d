"""Command line: ``mnist-autograder`` (``python -m autograder``), a traitlets Application with subcommands.

Built like nbgrader's apps (``nbgrader.apps``): each subcommand (``autograder.tools.commands``)
is an Application of its own; ``--help-all`` and ``--generate-config`` come from Jupyter's.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.application import JupyterApp, base_flags
from traitlets import List, default

from autograder.host.settings import CONFIG_FILE, ConfigError, FeedbackOnSubmit, SafeGrading
from autograder.tools.command import PROG, SettingsHelp, launch, refuse_unknown, summary
from autograder.tools.commands import COMMANDS

DESCRIPTION = f"""usage: {PROG} <command> [options]

The instructor's commands for the MNIST batch-size course: make a course, grade
one notebook or a whole class safely, check the machine, import a roster, give feedback on
submit, and start JupyterLab or JupyterHub for the course.

Settings (SafeGrading, FeedbackOnSubmit and nbgrader's own) are read as nbgrader reads them:
the Jupyter config folders (jupyter --paths), then the course's {CONFIG_FILE}, then the
command line (--SafeGrading.timeout=600, or a command's short options). `{PROG} --help-all`
describes every setting; `{PROG} --generate-config` writes them all, commented out, to
{CONFIG_FILE} in your Jupyter config folder (or to --config=FILE)."""


class MnistAutograder(SettingsHelp, JupyterApp):
    """``mnist-autograder``: dispatches to a subcommand, or writes the settings' config file."""

    name = PROG
    description = DESCRIPTION
    classes = List([SafeGrading, FeedbackOnSubmit])
    aliases = {"config": "JupyterApp.config_file"}
    flags = {name: base_flags[name] for name in ("generate-config", "y")}
    subcommands = {name: (command, summary(command)) for name, command in COMMANDS.items()}
    examples = f"""{PROG} init fall-course
{PROG} grade-all fall-course --assignment mnist_batch_size
{PROG} grade submission.ipynb --json
{PROG} <command> --help"""

    @default("config_file_name")
    def _config_file_name_default(self) -> str:
        return CONFIG_FILE.removesuffix(".py")

    def initialize(self, argv: Any = None) -> None:
        """Parse the command line; a subcommand parses the rest and reads its course's configuration."""
        argv = list(sys.argv[1:] if argv is None else argv)
        if not argv or argv[0] not in self.subcommands:
            refuse_unknown(argv, self.aliases, self.flags)
        self.parse_command_line(argv)

    def initialize_subcommand(self, subc: str, argv: Any = None) -> None:
        """A fresh instance of the subcommand, never a singleton left from an earlier call."""
        self.subapp = self.subcommands[subc][0](parent=self)
        self.subapp.initialize(argv)

    def run(self) -> int:
        """Run the subcommand, or write the config file; the exit status."""
        if self.subapp is not None:
            return self.subapp.run()
        if self.generate_config:
            self.write_default_config()
            return 0
        if self.extra_args:
            raise ConfigError(f"unknown command {self.extra_args[0]!r}; the commands are "
                              f"{', '.join(self.subcommands)} ({PROG} --help)")
        raise ConfigError(f"give a command: {', '.join(self.subcommands)} ({PROG} --help)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 2 with a one-line reason when the command line or grading cannot work."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return launch(MnistAutograder(), argv, argv[0] if argv and argv[0] in COMMANDS else PROG)

