"""What every ``mnist-autograder`` subcommand shares: a traitlets Application that reads a course's config.

A subcommand's options are traitlets aliases and flags, its positional arguments traitlets'
``extra_args``; it reads the configuration as nbgrader does (``NbgraderConfig``: Jupyter's
folders, then the course's ``nbgrader_config.py``, then the command line) and checks every
SafeGrading and FeedbackOnSubmit setting before it runs.  Any mistake is one ``ConfigError``.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_core.application import base_flags
from traitlets import List, TraitError
from traitlets.config import Application, Config
from traitlets.config.loader import KVArgParseConfigLoader
from traitlets.utils.text import wrap_paragraphs

from autograder.host.course import GradingError
from autograder.host.sandbox import SandboxUnavailable
from autograder.host.settings import (
    SETTINGS_CLASSES,
    ConfigError,
    FeedbackOnSubmit,
    NbgraderConfig,
    SafeGrading,
    checked,
)

PROG = "mnist-autograder"
SETTING_EXAMPLE = "--SafeGrading.timeout=600"
HELP_OPTIONS = ("-h", "--help", "--help-all")
LIMIT_ALIASES = {"timeout": "SafeGrading.timeout", "cell-timeout": "SafeGrading.cell_timeout",
                 "memory-gb": "SafeGrading.memory_gb"}
CLUSTER_ALIASES = {"workers": "SafeGrading.workers", "kernel-threads": "SafeGrading.kernel_threads",
                   "scheduler": "SafeGrading.scheduler"}


class _OneLineParser(KVArgParseConfigLoader.parser_class):  # type: ignore[name-defined,misc]
    """traitlets' argument parser, whose errors are one ConfigError instead of a usage text and an exit."""

    def error(self, message: str) -> Any:
        raise ConfigError(message)


class StrictLoader(KVArgParseConfigLoader):
    """traitlets' command-line loader, refusing what it would only warn about."""

    parser_class = _OneLineParser

    def _handle_unrecognized_alias(self, arg: str) -> None:
        raise ConfigError(f"unrecognised argument '--{arg}'; settings look like {SETTING_EXAMPLE}")


def summary(command: type) -> str:
    """A command's docstring as its line in a Subcommands section of the help."""
    return textwrap.fill(" ".join((command.__doc__ or "").split()), 76)


def _names(options: dict) -> set[str]:
    """The option names of traitlets aliases or flags (a key may be a tuple of names)."""
    return {name for key in options for name in (key if isinstance(key, tuple) else (key,))}


def refuse_unknown(argv: list[str], aliases: dict, flags: dict, owners: tuple[str, ...] | None = None,
                   hint: str = f"settings look like {SETTING_EXAMPLE}") -> None:
    """ConfigError for an option that is none of ``aliases``, ``flags``, help or a Class.trait setting
    (of one of ``owners``, when given); the message ends with ``hint``.

    traitlets would take ``--bogus`` as an alias waiting for a value; here it is named at once.
    """
    with_value, switches = _names(aliases), _names(flags)
    words = iter(argv[: argv.index("--")] if "--" in argv else argv)
    for word in words:
        if not word.startswith("-") or word in HELP_OPTIONS or word == "-":
            continue
        name, has_value = word.lstrip("-").split("=", 1)[0], "=" in word
        if name in with_value:
            if not has_value:
                next(words, None)  # its value, which may start with "-"
        elif name not in switches and ("." not in name or owners is not None
                                       and name.split(".", 1)[0] not in owners):
            raise ConfigError(f"unrecognised argument {word!r}; {hint}")


class SettingsHelp:
    """``--help-all``: the options, then each SafeGrading and FeedbackOnSubmit setting with its help.

    (traitlets' own would also list each Application class the command is made of.)
    """

    settings_classes: tuple[type, ...] = SETTINGS_CLASSES  # the settings it reads: their section of the help

    def emit_help(self, classes: bool = False) -> Iterator[str]:
        yield from self.emit_description()  # type: ignore[attr-defined]
        yield from self.emit_subcommands_help()  # type: ignore[attr-defined]
        yield from self.emit_options_help()  # type: ignore[attr-defined]
        if classes and self.settings_classes:
            yield "Settings"
            yield "========"
            yield ("Set in nbgrader_config.py (c.SafeGrading.timeout = 600) or on the command line "
                   f"({SETTING_EXAMPLE}).")
            yield ""
            for cls in self.settings_classes:
                yield cls.class_get_help()
                yield ""
        yield from self.emit_examples()  # type: ignore[attr-defined]
        yield from self.emit_help_epilogue(classes)  # type: ignore[attr-defined]

    def generate_config_file(self, classes: Any = None) -> str:
        """The config file of every setting, commented out (``--generate-config``)."""
        return super().generate_config_file(list(SETTINGS_CLASSES))  # type: ignore[misc]


class Command(SettingsHelp, NbgraderConfig):
    """One subcommand: its options, its positional arguments, and the course's settings, checked."""

    classes = List([SafeGrading, FeedbackOnSubmit])
    aliases: dict = {}
    flags: dict = {"debug": base_flags["debug"]}  # e.g. which config files were read
    arguments = ""  # the positional arguments, for the usage line: "NOTEBOOK", "[COURSE]"
    positional = (0, 0)  # how many positional arguments it takes: at least, at most
    owners: tuple[str, ...] | None = None  # whose Class.trait settings it takes (None: any, as nbgrader's)
    hint = f"settings look like {SETTING_EXAMPLE}"  # how an unrecognised option's refusal ends

    @property
    def usage(self) -> str:
        """The usage line: ``usage: mnist-autograder grade NOTEBOOK [options]``."""
        return " ".join(f"usage: {self.name} {self.arguments} [options]".split())

    def emit_description(self) -> Iterator[str]:
        yield self.usage
        yield ""
        for paragraph in wrap_paragraphs(" ".join((type(self).__doc__ or "").split())):
            yield paragraph
            yield ""

    def _create_loader(self, argv: list[str] | None, aliases: dict, flags: dict,
                       classes: Any) -> KVArgParseConfigLoader:
        return StrictLoader(argv, aliases, flags, classes=classes, log=self.log)

    def initialize(self, argv: list[str] | None = None) -> None:
        """Parse the command line, then read and check the course's configuration (if it reads one)."""
        argv = list(argv or [])
        refuse_unknown(argv, self.aliases, self.flags, self.owners, self.hint)
        self.parse_command_line(argv)
        low, high = self.positional
        if not low <= len(self.extra_args) <= high:
            raise ConfigError(f"{self.usage} ({self.name} --help)")
        course = self.course()
        if course is None:
            return
        self.read(course, self.cli_config)
        for cls in SETTINGS_CLASSES:
            checked(cls, self.config)

    def update_config(self, config: Config) -> None:
        """Apply ``config`` to the command's own options; ConfigError for a value one refuses (--port=abc).

        (traitlets' parse_command_line would log the TraitError and exit 1.)
        """
        try:
            super().update_config(config)
        except TraitError as exc:
            raise ConfigError(str(exc)) from exc

    def course(self) -> Path | None:
        """The course whose configuration this command reads; None: it reads none."""
        return None

    @property
    def overrides(self) -> Config:
        """The settings given on this command line, for the host's functions to apply last."""
        return self.cli_config

    @property
    def settings(self) -> SafeGrading:
        """The SafeGrading settings in force (checked when the command was initialized)."""
        return checked(SafeGrading, self.config)

    def run(self) -> int:
        """Do the command; the exit status."""
        raise NotImplementedError


def launch(app: Application, argv: list[str] | None, label: str) -> int:
    """Initialize and run ``app``; its exit status, or 2 with one line ``label: reason`` on stderr when
    the command line or the grading cannot work (``mnist-autograder``, and the lab's and hub's own mains)."""
    try:
        app.initialize(list(sys.argv[1:] if argv is None else argv))
        return app.run()
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except (GradingError, SandboxUnavailable, ConfigError) as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return 2
