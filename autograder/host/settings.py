"""Runs on the host: the grading settings, read the nbgrader way and defined once.

Every limit of safe grading is a traitlet of :class:`SafeGrading`, so it is set like any
nbgrader setting: in ``nbgrader_config.py`` (``c.SafeGrading.timeout = 300``), in the Jupyter
config folders nbgrader reads (``~/.jupyter``, ``/etc/jupyter``, ...), or on the command line
(``--SafeGrading.timeout=600``, or the short flags of ``mnist-autograder``).  Each trait's help
is its one description (``mnist-autograder --help-all``) and its validator the one place a
value is checked.  The per-cell limit is nbgrader's own ``Execute.timeout``, the one plain
``nbgrader autograde`` uses too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from jupyter_core.application import JupyterApp
from traitlets import Bool, Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import Application, Config, Configurable
from traitlets.config.loader import (
    ConfigFileNotFound,
    FileConfigLoader,
    JSONFileConfigLoader,
    KVArgParseConfigLoader,
    PyFileConfigLoader,
)

from autograder.host.sandbox import THREAD_VARIABLES, Limits

CONFIG_FILE = "nbgrader_config.py"
GiB, MiB, KiB = 1024**3, 1024**2, 1024
DASK_ADDRESS = re.compile(r"\w+://\S+")  # tcp://HOST:8786, tls://..., as distributed.Client takes
Settings = TypeVar("Settings", bound=Configurable)


class ConfigError(RuntimeError):
    """The course's configuration cannot be used; the message says what and how to fix it."""


def _refuse(owner: Configurable, proposal: Any, allowed: str) -> TraitError:
    """The one-line error for a refused value: the setting, the value, and what is allowed."""
    return TraitError(f"{type(owner).__name__}.{proposal.trait.name}={proposal.value!r} is refused: "
                      f"it must be {allowed}")


class SafeGrading(Configurable):
    """Limits for grading one untrusted submission in the sandbox, and how many run at once."""

    timeout = Float(300.0, help="Seconds one submission may take in all (kernel and judge); "
                    "it is stopped at this limit and what ran before still counts.").tag(config=True)
    cell_timeout = Float(None, allow_none=True, help="Seconds one cell may run before it is interrupted "
                         "(the cells after it still run), capped at `timeout`. None: nbgrader's "
                         "Execute.timeout; 0 or less (as Execute.timeout None or -1): no per-cell limit."
                         ).tag(config=True)
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

    @validate("memory_gb", "disk_mb", "cell_output_kb", "output_mb", "judge_timeout")
    def _more_than_zero(self, proposal: Any) -> float:
        if not proposal.value > 0:
            raise _refuse(self, proposal, "more than 0")
        return proposal.value

    @validate("timeout")
    def _whole_seconds(self, proposal: Any) -> float:
        if not proposal.value >= 1:  # the per-cell limit nbclient takes is whole seconds
            raise _refuse(self, proposal, "1 second or more")
        return proposal.value

    @validate("cell_timeout")
    def _cell_seconds(self, proposal: Any) -> float | None:
        if proposal.value is not None and 0 < proposal.value < 1:
            raise _refuse(self, proposal, "1 second or more, or 0 or less for no per-cell limit")
        return proposal.value

    @validate("workers")
    def _workers(self, proposal: Any) -> int:
        if proposal.value < 0:
            raise _refuse(self, proposal, "0 (as many as fit) or more")
        return proposal.value

    @validate("kernel_threads")
    def _threads(self, proposal: Any) -> int:
        if proposal.value < 1:
            raise _refuse(self, proposal, "1 or more")
        return proposal.value

    @validate("tensorflow_log_level")
    def _log_level(self, proposal: Any) -> int:
        if not 0 <= proposal.value <= 3:
            raise _refuse(self, proposal, "0, 1, 2 or 3 (TF_CPP_MIN_LOG_LEVEL)")
        return proposal.value

    @validate("scheduler")
    def _scheduler(self, proposal: Any) -> str:
        if proposal.value and not DASK_ADDRESS.fullmatch(proposal.value):
            raise _refuse(self, proposal, "empty (a local cluster) or a scheduler's address, tcp://HOST:8786")
        return proposal.value

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
        cell = self._cell_timeout_default() if self.cell_timeout is None else self.cell_timeout
        if cell <= 0:
            return int(self.timeout)
        return int(min(cell, self.timeout))

    @property
    def limits(self) -> Limits:
        """The sandbox's resource limits for one kernel."""
        return Limits(memory_bytes=int(self.memory_gb * GiB), disk_bytes=int(self.disk_mb * MiB))

    @property
    def worker_count(self) -> int:
        """``workers``, with 0 read as as many as the cores hold at ``kernel_threads`` each."""
        return self.workers or max(1, (os.cpu_count() or 1) // self.kernel_threads)

    def environment(self) -> dict[str, str]:
        """Variables the kernel and the judge run with: log level, and their share of the CPU."""
        threads = str(self.kernel_threads)
        return {"TF_CPP_MIN_LOG_LEVEL": str(self.tensorflow_log_level),
                **{name: threads for name in THREAD_VARIABLES}}


class FeedbackOnSubmit(Configurable):
    """Feedback minutes after a student submits: what the feedback service does, set by the instructor."""

    enabled = Bool(False, help="Whether `mnist-autograder feedback-service` grades submissions as they "
                   "arrive in the exchange and releases each student's feedback.").tag(config=True)
    assignments = List(Unicode(), help="The assignments that get feedback on submit; empty: every "
                       "assignment in the gradebook.").tag(config=True)
    runs_per_day = Integer(3, help="Feedback runs per student and assignment in any 24 hours; "
                           "later submissions wait, and the newest replaces one still waiting."
                           ).tag(config=True)
    scores_before_due = Bool(True, help="Whether feedback released before the assignment's due date (set "
                             "in the Formgrader) shows scores; if not, it shows each check's message "
                             "without points until the due date passes.").tag(config=True)
    poll_seconds = Float(5.0, help="Seconds between two looks at the exchange for new "
                         "submissions.").tag(config=True)

    @validate("runs_per_day")
    def _runs(self, proposal: Any) -> int:
        if proposal.value < 1:
            raise _refuse(self, proposal, "1 or more")
        return proposal.value

    @validate("poll_seconds")
    def _poll(self, proposal: Any) -> float:
        if not proposal.value >= 0.5:
            raise _refuse(self, proposal, "0.5 seconds or more")
        return proposal.value


SETTINGS_CLASSES = (SafeGrading, FeedbackOnSubmit)


class _SaysWhichFile(FileConfigLoader):
    """A traitlets config-file loader whose failing file says which it is and how to fix it."""

    def load_config(self) -> Config:
        try:
            return super().load_config()
        except ConfigFileNotFound:
            raise
        except Exception as exc:
            raise ConfigError(f"{self.full_filename} could not be loaded ({type(exc).__name__}: {exc}); "
                              "fix or remove it") from exc


class _PyFile(_SaysWhichFile, PyFileConfigLoader):
    """traitlets' loader of a Python config file, saying which file failed."""


class _JSONFile(_SaysWhichFile, JSONFileConfigLoader):
    """traitlets' loader of a JSON config file, saying which file failed."""


class NbgraderConfig(JupyterApp):
    """Reads nbgrader's configuration the way nbgrader's apps do (``nbgrader.apps.baseapp.NbGrader``).

    ``jupyter_config`` and ``nbgrader_config`` (``.py`` and ``.json``) in Jupyter's config folders
    (``jupyter --paths``; the user's after the system's), then the course's ``nbgrader_config.py``.
    """

    name = "nbgrader"
    python_config_loader_class = _PyFile
    json_config_loader_class = _JSONFile
    raise_config_file_errors = True

    @default("config_file_name")
    def _config_file_name_default(self) -> str:
        return Path(CONFIG_FILE).stem

    def read(self, course: Path, overrides: Config | None = None) -> Config:
        """Load Jupyter's folders' files, then ``course``'s ``nbgrader_config.py``, then ``overrides``."""
        course = Path(course)
        if not (course / CONFIG_FILE).is_file():
            raise ConfigError(f"{course} is not an nbgrader course: it has no {CONFIG_FILE} "
                              "(make one with `mnist-autograder init DIR`)")
        self.load_config_file()
        Application.load_config_file(self, CONFIG_FILE, path=os.fspath(course))
        if overrides is not None:
            self.update_config(overrides)
        return self.config


def course_config(course: Path, overrides: Config | None = None) -> Config:
    """nbgrader's configuration for ``course``: Jupyter's config folders, then the course, then overrides.

    Read by :class:`NbgraderConfig`, in the order and precedence of nbgrader's own apps; the
    command-line settings (``overrides``) come last.
    """
    return NbgraderConfig().read(course, overrides)


def command_line_config(args: Sequence[str]) -> Config:
    """Config from nbgrader-style arguments (``--SafeGrading.timeout=600``); ConfigError on others."""
    for arg in args:
        if not (arg.startswith("--") and "." in arg.split("=", 1)[0]):
            raise ConfigError(f"unrecognised argument {arg!r}; settings look like --SafeGrading.timeout=600")
    return KVArgParseConfigLoader(list(args)).load_config()


def checked(cls: type[Settings], config: Config) -> Settings:
    """``cls`` (SafeGrading, FeedbackOnSubmit) as ``config`` sets it; ConfigError in one line naming a
    setting that does not exist, has the wrong type or is refused by its validator."""
    known = cls.class_trait_names(config=True)
    for name in config[cls.__name__] if cls.__name__ in config else ():
        if name not in known:
            raise ConfigError(f"{cls.__name__}.{name} is not a setting; {cls.__name__}'s are "
                              f"{', '.join(sorted(known))} (mnist-autograder --help-all)")
    try:
        settings = cls(config=config)
        for name in known:  # dynamic defaults too (cell_timeout reads Execute.timeout)
            getattr(settings, name)
    except TraitError as exc:
        raise ConfigError(str(exc)) from exc
    return settings


def load_settings(course: Path, overrides: Config | None = None) -> SafeGrading:
    """The safe-grading settings in force for ``course``; ConfigError naming a setting that is refused."""
    return checked(SafeGrading, course_config(course, overrides))


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
