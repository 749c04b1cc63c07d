"""Runs on the host: the grading settings, read the nbgrader way and defined once.

Every limit of safe grading is a traitlet of :class:`SafeGrading`, so it is set like any
nbgrader setting: in ``nbgrader_config.py`` (``c.SafeGrading.timeout = 300``), in the Jupyter
config folders nbgrader reads (``~/.jupyter``, ``/etc/jupyter``, ...), or on the command line
(``--SafeGrading.timeout=600``, or the short flags of ``python -m autograder``).  The per-cell
limit is nbgrader's own ``Execute.timeout``, the one plain ``nbgrader autograde`` uses too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from jupyter_core.paths import jupyter_config_path
from traitlets import Bool, Float, Integer, List, TraitError, Unicode, default
from traitlets.config import Config, Configurable
from traitlets.config.loader import KVArgParseConfigLoader, PyFileConfigLoader

from autograder.host.sandbox import THREAD_VARIABLES, Limits

CONFIG_FILE = "nbgrader_config.py"
GiB, MiB, KiB = 1024**3, 1024**2, 1024


class ConfigError(RuntimeError):
    """The course's configuration cannot be used; the message says what and how to fix it."""


class SafeGrading(Configurable):
    """Limits for grading one untrusted submission in the sandbox, and how many run at once."""

    timeout = Float(300.0, help="Seconds one submission may take in all (kernel and judge); "
                    "it is stopped at this limit and what ran before still counts.").tag(config=True)
    cell_timeout = Float(help="Seconds one cell may run before it is interrupted (the cells after "
                         "it still run). Default: nbgrader's Execute.timeout, capped at `timeout`; "
                         "0 or less (as Execute.timeout None or -1): no per-cell limit.").tag(config=True)
    memory_gb = Float(8.0, help="Address-space limit of the student's kernel, in GiB.").tag(config=True)
    disk_mb = Float(512.0, help="Disk a graded kernel may fill, in MiB: the largest file it may write, "
                    "and the size of each of its folders (its work folder, /tmp, and the evidence "
                    "folder, which is watched while it runs).").tag(config=True)
    cell_output_kb = Float(1024.0, help="Output one cell may show in the graded notebook, in KiB; "
                           "more is dropped while the cell runs, with a note.").tag(config=True)
    output_mb = Float(16.0, help="Output the whole graded notebook may show, in MiB; more is dropped "
                      "while the notebook runs, with a note.").tag(config=True)
    workers = Integer(0, help="Submissions graded at once on this machine (the local Dask cluster's "
                      "workers); 0 means as many as fit: CPU cores // kernel_threads.").tag(config=True)
    kernel_threads = Integer(1, help="CPU threads for each student's kernel and judge (TensorFlow's "
                             "intra- and inter-op pools, OpenMP and BLAS), so that workers share the "
                             "cores instead of fighting over them.").tag(config=True)
    scheduler = Unicode("", help="Address of an existing Dask scheduler (tcp://HOST:8786) that "
                        "grade-all sends submissions to; empty: a local cluster on this machine."
                        ).tag(config=True)
    judge_timeout = Float(180.0, help="Seconds the clean judge may take to score one submission."
                          ).tag(config=True)
    tensorflow_log_level = Integer(2, help="TF_CPP_MIN_LOG_LEVEL for the kernel and the judge "
                                   "(2: TensorFlow's C++ errors only).").tag(config=True)

    @default("cell_timeout")
    def _cell_timeout_default(self) -> float:
        from nbgrader.preprocessors import Execute  # imports nbconvert: only when needed

        timeout = Execute(config=self.config).timeout  # None or -1: nbclient's "no limit"
        return float(timeout) if timeout is not None else 0.0

    @property
    def cell_limit(self) -> int:
        """The per-cell interrupt actually used: ``cell_timeout``, never above ``timeout``.

        No per-cell limit (``cell_timeout`` 0 or less) leaves only the submission's limit.
        """
        if self.cell_timeout <= 0:
            return max(1, int(self.timeout))
        return max(1, int(min(self.cell_timeout, self.timeout)))

    @property
    def limits(self) -> Limits:
        """The sandbox's resource limits for one kernel."""
        return Limits(memory_bytes=int(self.memory_gb * GiB), disk_bytes=int(self.disk_mb * MiB))

    @property
    def worker_count(self) -> int:
        """``workers``, with 0 read as as many as the cores hold at ``kernel_threads`` each."""
        return self.workers or max(1, (os.cpu_count() or 1) // max(1, self.kernel_threads))

    def environment(self) -> dict[str, str]:
        """Variables the kernel and the judge run with: log level, and their share of the CPU."""
        threads = str(max(1, self.kernel_threads))
        return {"TF_CPP_MIN_LOG_LEVEL": str(self.tensorflow_log_level),
                **{name: threads for name in THREAD_VARIABLES}}


class FeedbackOnSubmit(Configurable):
    """Feedback minutes after a student submits: what the feedback service does, set by the instructor."""

    enabled = Bool(False, help="Whether `mnist-autograder feedback-service` grades submissions as they "
                   "arrive in the exchange and releases each student's feedback.").tag(config=True)
    assignments = List(Unicode(), help="The assignments that get feedback on submit; empty: every "
                       "assignment in the gradebook.").tag(config=True)
    runs_per_day = Integer(3, min=1, help="Feedback runs per student and assignment in any 24 hours; "
                           "later submissions wait, and the newest replaces one still waiting."
                           ).tag(config=True)
    poll_seconds = Float(5.0, min=0.5, help="Seconds between two looks at the exchange for new "
                         "submissions.").tag(config=True)


def course_config(course: Path, overrides: Config | None = None) -> Config:
    """nbgrader's configuration for ``course``: Jupyter's config folders, then the course, then overrides.

    Same order and precedence as nbgrader's own apps: system-wide folders first, the user's
    ``~/.jupyter`` after them, the course's ``nbgrader_config.py`` (nbgrader's working
    directory) after that, and command-line settings last.
    """
    course = Path(course)
    if not (course / CONFIG_FILE).is_file():
        raise ConfigError(f"{course} is not an nbgrader course: it has no {CONFIG_FILE} "
                          "(make one with `mnist-autograder init DIR`)")
    config = Config()
    for folder in [*reversed(jupyter_config_path()), str(course)]:
        if (Path(folder) / CONFIG_FILE).is_file():
            try:
                config.merge(PyFileConfigLoader(CONFIG_FILE, path=folder).load_config())
            except Exception as exc:  # a broken config file: say which and why
                raise ConfigError(f"{Path(folder) / CONFIG_FILE} could not be loaded "
                                  f"({type(exc).__name__}: {exc}); fix or remove it") from exc
    if overrides is not None:
        config.merge(overrides)
    return config


def command_line_config(args: Sequence[str]) -> Config:
    """Config from nbgrader-style arguments (``--SafeGrading.timeout=600``); ConfigError on others."""
    for arg in args:
        if not (arg.startswith("--") and "." in arg.split("=", 1)[0]):
            raise ConfigError(f"unrecognised argument {arg!r}; settings look like --SafeGrading.timeout=600")
    return KVArgParseConfigLoader(list(args)).load_config()


def load_settings(course: Path, overrides: Config | None = None) -> SafeGrading:
    """The safe-grading settings in force for ``course``; ConfigError for a value of the wrong type."""
    config = course_config(course, overrides)
    try:
        settings = SafeGrading(config=config)
        settings.cell_limit  # noqa: B018 - reads Execute.timeout too, so a wrong type shows here
    except TraitError as exc:
        raise ConfigError(f"a SafeGrading or Execute setting has the wrong type: {exc}") from exc
    return settings


def db_url(course: Path, config: Config | None = None) -> str:
    """The gradebook's URL (``CourseDirectory.db_url``; default: SQLite in the course)."""
    config = config if config is not None else course_config(course)
    url = config.CourseDirectory.get("db_url") if "CourseDirectory" in config else None
    return url or f"sqlite:///{Path(course) / 'gradebook.db'}"


def exchange_root(course: Path, config: Config | None = None) -> Path | None:
    """nbgrader's ``Exchange.root`` for ``course``, if the configuration sets one."""
    config = config if config is not None else course_config(course)
    root = config.Exchange.get("root") if "Exchange" in config else None
    return Path(root) if isinstance(root, str) else None
