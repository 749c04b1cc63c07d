"""Runs on the host, inside nbgrader: the machine checks before nbgrader's ``Autograde`` grades anything.

Before any preprocessor runs, nbgrader's ``Autograde`` has already removed the old autograded
notebook and created the student and the submission in the gradebook; its exporter is made
before all of that, once per run (the Formgrader's Autograde button, ``nbgrader autograde``).  So
the course's ``nbgrader_config.py`` names :class:`CheckedExporter` as ``Autograde.exporter_class``,
and making it runs the grading checks of ``mnist-autograder doctor``: when one fails, nbgrader
stops with one message, and nothing is graded, recorded or removed.  The checks take about
0.04 s (a sandbox without TensorFlow), so they run every time.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters import NotebookExporter

from autograder.host.doctor import check_data, check_gradebook, check_sandbox
from autograder.host.settings import SafeGrading


class MachineCannotGrade(RuntimeError):
    """A check grading needs failed; the message names each failure and its fix."""


def check_before_grading(course: Path, settings: SafeGrading) -> None:
    """Raise MachineCannotGrade unless MNIST, the sandbox and the course's gradebook work here."""
    findings = [check_data(), *check_sandbox(settings, tensorflow=False), check_gradebook(course)]
    failed = [f for f in findings if not f.ok]
    if failed:
        raise MachineCannotGrade("grading cannot work on this machine, nothing was graded or recorded: "
                                 + "; ".join(f.line() for f in failed)
                                 + " (`mnist-autograder doctor` checks again)")


class CheckedExporter(NotebookExporter):
    """nbconvert's NotebookExporter (nbgrader's default) that first checks this machine can grade."""

    def __init__(self, config=None, **kwargs):
        super().__init__(config=config, **kwargs)
        parent = kwargs.get("parent")
        coursedir = getattr(parent, "coursedir", None)
        if coursedir is None:  # not made by an nbgrader converter: nothing to check for
            return
        try:
            check_before_grading(Path(coursedir.root), SafeGrading(config=self.config))
        except MachineCannotGrade as exc:
            from nbgrader.converters.base import NbGraderException

            parent.log.error(str(exc))
            raise NbGraderException(str(exc)) from None
