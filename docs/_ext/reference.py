"""Sphinx directives that generate the reference pages at build time, never by hand.

``settings-reference`` lists every ``config=True`` trait of the Configurable classes of the
modules it names (default and help, from the code), and warns about a module of ``autograder/``
that has such traits but is not named; ``command-help`` shows the CLI's help as it prints it.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from traitlets.config import Application, Configurable

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)


def configurables(module_name: str) -> list[type[Configurable]]:
    """The Configurable classes ``module_name`` defines with settings of their own.

    Applications are left out: their options are the command reference's.
    """
    module = importlib.import_module(module_name)
    return [cls for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, Configurable) and not issubclass(cls, Application)
            and cls.__module__ == module_name and cls.class_own_traits(config=True)]


def trait_help(cls: type[Configurable], name: str) -> str:
    """A trait's help; a trait redefined without help keeps the help of the class it overrides."""
    for klass in cls.mro():
        trait = getattr(klass, "class_traits", lambda: {})().get(name)
        if trait is not None and trait.help:
            return trait.help
    return "No description."


def settings_rst(cls: type[Configurable]) -> list[str]:
    """reStructuredText for one class's own settings, in the shape of traitlets' class_config_rst_doc."""
    summary = (cls.__doc__ or "").strip().splitlines()[0]
    lines = [f".. rubric:: {cls.__name__} (``{cls.__module__}``)", "", summary, ""]
    for name, trait in sorted(cls.class_own_traits(config=True).items()):
        kind = trait.info_rst() if "Enum" in type(trait).__name__ else type(trait).__name__
        computed = name in getattr(cls, "_trait_default_generators", {})
        default = "computed when read (see below)" if computed else f"``{trait.default_value_repr()}``"
        lines += [f"``c.{cls.__name__}.{name}`` : {kind}", f"   Default: {default}", "",
                  *(f"   {line}" for line in trait_help(cls, name).splitlines()), ""]
    return lines


def modules_with_settings() -> set[str]:
    """Modules of ``autograder/`` that define Configurables with ``config=True`` traits."""
    candidates = {".".join(path.relative_to(ROOT).with_suffix("").parts)
                  for path in (ROOT / "autograder").rglob("*.py") if "tag(config=True)" in path.read_text()}
    return {name for name in candidates if configurables(name)}


class SettingsReference(SphinxDirective):
    """``settings-reference MODULE ...``: every setting of the Configurables those modules define."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()  # generated from the code: never taken from the last build
        names = self.arguments[0].split()
        for missing in sorted(modules_with_settings() - set(names)):
            logger.warning(f"{missing} has config=True traits but is not in the settings reference",
                           location=self.get_location())
        lines = [line for name in names for cls in configurables(name) for line in settings_rst(cls)]
        document = new_document(self.env.docname, self.state.document.settings)
        Parser().parse("\n".join(lines), document)  # reStructuredText, whatever the page's own parser
        return document.children


def run_help(args: list[str]) -> str | None:
    """``python -m autograder ARGS`` output, or None when it fails (an option it lacks)."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    return done.stdout if done.returncode == 0 and done.stdout.strip() else None


def subcommands(text: str) -> list[str]:
    """Subcommand names in a help text: argparse's ``{a,b}``, or traitlets' Subcommands section."""
    if "\nSubcommands\n" in text:
        section = text.split("\nSubcommands\n", 1)[1]
        section = re.split(r"\n[A-Z][\w ]+\n[-=]{3,}\n", section, maxsplit=1)[0]
        return re.findall(r"^([a-z][\w-]*)$", section, re.MULTILINE)
    found = re.search(r"^\s*\{([\w,-]+)\}\s*$", text, re.MULTILINE)
    return found.group(1).split(",") if found else []


def command_help(args: Sequence[str] = (), flags: Sequence[str] = ("--help-all", "--help"),
                 depth: int = 2) -> list[tuple[str, str]]:
    """(command line, help text) for a command and its subcommands: ``--help-all``, else ``--help``.

    The subcommands try the flag that worked for their command first, and run side by side.
    """
    helps = ((flag, run_help([*args, flag])) for flag in flags)
    flag, text = next(((flag, text) for flag, text in helps if text is not None), (None, None))
    if text is None:
        raise RuntimeError(f"python -m autograder {' '.join(args)} {flags[-1]} failed")
    with ThreadPoolExecutor() as pool:
        retry = dict.fromkeys([flag, "--help"])
        nested = pool.map(lambda name: command_help([*args, name], retry, depth - 1),
                          subcommands(text) if depth else [])
        below = [entry for found in nested for entry in found]
    return [(" ".join(["mnist-autograder", *args]), text), *below]


class CommandHelp(SphinxDirective):
    """``command-help``: each command's help, as the CLI prints it, under a heading of its own."""

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()
        result: list[nodes.Node] = []
        for command, text in command_help():
            section = nodes.section(ids=[nodes.make_id(command)])
            section += nodes.title(text=command)
            section += nodes.literal_block(text, text, language="text")
            result.append(section)
        return result


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("settings-reference", SettingsReference)
    app.add_directive("command-help", CommandHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
