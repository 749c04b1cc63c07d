"""Runs on the host, inside nbgrader: the preprocessors that make ``nbgrader autograde`` safe.

The course's ``nbgrader_config.py`` puts them in nbgrader's own ``Autograde`` pipeline, so
the Formgrader's Autograde button, ``nbgrader autograde`` and ``python -m autograder
grade-all`` all grade the same way, and nbgrader's own ``SaveAutoGrades`` and
``AssignLatePenalties`` write the gradebook as they always do:

- :class:`CheckSubmission` (first of the sanitize steps) notes what the student changed in
  the graded structure and refuses a notebook too big to run;
- :class:`SandboxedExecute` (in place of nbgrader's ``Execute``) runs the student's kernel in
  the sandbox with the time and memory limits; a kernel that dies or a submission over its
  time limit is graded on what ran before;
- :class:`CleanJudge` (right after it) scores the kernel's evidence in a clean process with
  the gradebook's trusted grade cells and writes the verdicts as the grade cells' outputs,
  which is what ``SaveAutoGrades`` reads.

Class grading runs those two on Dask workers; the collecting process then runs the same
pipeline in the real course with :class:`ReplayGraded` in their place (:func:`replay_pipeline`),
so nbgrader's own steps record the worker's results.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import determine_grade, is_grade
from traitlets import Bool, Enum, Unicode

from autograder.evidence.records import ENV_DIR, SAVED_RUN
from autograder.host.cell_kinds import JUDGED_NOTE, PLAIN_NOTE, is_judged
from autograder.host.course import trusted_grade_cells
from autograder.host.limits import MAX_MESSAGE_BYTES, FolderWatch, OutputBudget, capped_client, capped_context
from autograder.host.sandbox import (
    KERNEL_NAME,
    SCRATCH_PREFIX,
    connection,
    copy_handed_in,
    environment,
    kernel_argv,
    tools,
    trained_files,
    write_kernel_spec,
)
from autograder.host.settings import KiB, MiB, SafeGrading
from autograder.host.submission import (
    METADATA,
    Judge,
    annotate_verdicts,
    grade_id,
    kernel_events,
    structure_notes,
    tampering_note,
    too_big,
    unsafe_entries,
)


def _note(nb: NotebookNode, *notes: str) -> None:
    nb.metadata.setdefault(METADATA, {}).setdefault("problems", []).extend(notes)


class CheckSubmission(NbGraderPreprocessor):
    """Notes grade cells the student deleted, copied, moved or retyped; refuses a huge notebook.

    Runs before nbgrader's own sanitizing (which restores the tests, so the changes would no
    longer show).  A copy of a graded cell keeps its code but loses its nbgrader metadata, so
    the first copy is graded.  A refused notebook is not executed; every grade cell then
    scores 0 with the reason.  Links and special files in the submitted folder (which nbgrader
    copied by following them) are removed from the autograded folder; a notebook submitted as
    a link is refused and its cells emptied, so no linked file reaches the feedback.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        cells = trusted_grade_cells(info["db_url"], info["assignment"], info["notebook"])
        nb.metadata.pop(METADATA, None)  # the student's own claims about grading are not kept
        _note(nb, *structure_notes(nb, cells))
        seen: set[str] = set()
        for cell in nb.cells:  # a copy of a graded cell stays as plain code, not a second test
            gid = grade_id(cell)
            if gid in seen:
                del cell.metadata["nbgrader"]  # nbgrader's DeduplicateIds leaves {}, then rejects it
            elif gid:
                seen.add(gid)
        reason = too_big(nb) or self._drop_links(nb, resources)
        if reason:
            _note(nb, reason)
            nb.metadata[METADATA]["refused"] = True
        return nb, resources

    def _drop_links(self, nb: NotebookNode, resources: dict) -> str | None:
        """Remove from the autograded copy what nbgrader copied through links; why a notebook is refused."""
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        submitted, autograded = (
            Path(coursedir.format_path(folder, info["student"], info["assignment"]))
            for folder in (coursedir.submitted_directory, coursedir.autograded_directory))
        linked = unsafe_entries(submitted) if submitted.is_dir() else []
        for rel in linked:
            copy = autograded / rel
            if copy.is_dir() and not copy.is_symlink():
                shutil.rmtree(copy)
            elif copy.exists() or copy.is_symlink():
                copy.unlink()
        if linked:
            _note(nb, f"{', '.join(linked[:3])}{', ...' if len(linked) > 3 else ''}: links and special files "
                      "in the submission are not graded, nor returned")
        if f"{info['notebook']}.ipynb" not in linked:
            return None
        for cell in nb.cells:  # the link's target must not come back in the feedback
            cell.source, cell.outputs = "", []
        return f"{info['notebook']}.ipynb was handed in as a link, not a notebook: not graded"


class SandboxedExecute(Execute):
    """nbgrader's ``Execute``, with the student's kernel in the sandbox (:mod:`autograder.host.sandbox`).

    The kernel works in a private copy of the regular files handed in (never in the course's
    ``autograded/``), writes only there, in its /tmp and in an evidence folder, has no network
    and is reached over Unix sockets (:func:`~autograder.host.sandbox.connection`); the settings
    are :class:`~autograder.host.settings.SafeGrading`'s.  Each cell gets the per-cell limit,
    never more than what is left of the submission's; past that, the remaining cells are not
    run.  Output over ``cell_output_kb`` in a cell, or ``output_mb`` in all, is dropped as it
    arrives; a kernel whose evidence and runtime folders grow past ``disk_mb`` is stopped.  A
    kernel manager passed in (``km``) is not used: the kernel is always the sandboxed one.
    """

    # A cell over its limit is interrupted and the next one runs; output that stops arriving
    # after the reply is no reason to fail the whole submission.
    interrupt_on_timeout = Bool(True).tag(config=True)
    raise_on_iopub_timeout = Bool(False).tag(config=True)
    # The kernel's state is worthless once every cell ran: stop it at once (saves ~1.5 s).
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict, km: Any = None) -> tuple[NotebookNode, dict]:
        tools()  # refuse to run a student's code without the sandbox, saying how to install it
        settings = SafeGrading(parent=self)
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        resources[METADATA] = {"scratch": scratch, "settings": settings, "finished": False}
        if nb.metadata.get(METADATA, {}).get("refused"):
            return nb, resources
        workdir = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        folders = {name: scratch / name for name in ("evidence", "runtime", "jupyter", "handed-in", "judge")}
        for folder in folders.values():
            folder.mkdir()
        left_out = copy_handed_in(workdir, folders["handed-in"])
        if (folders["handed-in"] / SAVED_RUN).is_file():  # the judge reads exercise 10's run from here only
            shutil.copyfile(folders["handed-in"] / SAVED_RUN, folders["judge"] / SAVED_RUN)
        if left_out:
            _note(nb, f"{', '.join(left_out[:3])}{', ...' if len(left_out) > 3 else ''}: links and special "
                      "files are not given to the graded run")
        hidden = [str(path.relative_to(workdir)) for path in trained_files(workdir)]
        if hidden:
            _note(nb, f"{', '.join(hidden[:3])}{', ...' if len(hidden) > 3 else ''} handed in beside the "
                      "notebook: trained models and arrays are not loaded when grading; results must "
                      "come from this run")
        env = environment({**settings.environment(), ENV_DIR: str(folders["evidence"])})
        write_kernel_spec(folders["jupyter"], kernel_argv(workdir, folders["handed-in"], folders["evidence"],
                                                          folders["runtime"], settings.limits, env))
        self._kernel_dir, self._runtime = folders["jupyter"] / "kernels", folders["runtime"]
        self._deadline = time.monotonic() + settings.timeout
        self._settings = settings
        self._stopped = False
        self._output = OutputBudget(int(settings.cell_output_kb * KiB), int(settings.output_mb * MiB))
        self.timeout_func = self._cell_timeout
        # The judge loads while the kernel runs, if any grade cell calls for it.
        judge = None
        if self._judged_cells(resources):
            judge = Judge(settings, folders["evidence"], folders["judge"])
        resources[METADATA]["judge"] = judge
        watch = FolderWatch([folders["evidence"], folders["runtime"]], settings.limits.disk_bytes,
                            self._kill_kernel)
        try:
            with watch:
                super().preprocess(nb, resources)
            resources[METADATA]["finished"] = not self._stopped and not watch.tripped
        except DeadKernelError:
            _note(nb, "the kernel died (the notebook exited or crashed it); graded what ran before")
        except BaseException:  # nbgrader reports it and skips the judge: leave nothing behind
            if judge is not None:
                judge.close()
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        if watch.tripped:
            _note(nb, f"the kernel was stopped: its evidence and runtime folders grew past the "
                      f"{settings.disk_mb:g} MiB limit ({watch.tripped}); graded what ran before")
        if self._stopped:
            _note(nb, f"stopped after the {settings.timeout:g} s time limit (a cell hangs or runs too "
                      "long); graded what ran before")
        _note(nb, *self._output.notes(nb))
        return nb, resources

    def _judged_cells(self, resources: dict) -> bool:
        """Whether the assignment's notebook has judged grade cells (True when nbgrader does not say)."""
        info = resources.get("nbgrader")
        if not info:
            return True
        cells = trusted_grade_cells(info["db_url"], info["assignment"], info["notebook"])
        return any(is_judged(c["source"]) for c in cells)

    def create_kernel_manager(self) -> AsyncKernelManager:
        """A kernel manager that knows only the sandboxed kernel spec, reached over Unix sockets.

        Its clients drop (disconnect) any message over ``MAX_MESSAGE_BYTES`` before it is read
        into memory (ZeroMQ's ``MAXMSGSIZE``).
        """
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, config=self.config,
                                     kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self._kernel_dir)]),
                                     client_factory=capped_client(MAX_MESSAGE_BYTES),
                                     context=capped_context(MAX_MESSAGE_BYTES),
                                     **connection(self._runtime))
        return self.km

    def _kill_kernel(self) -> None:
        """Stop the sandbox at once (from the folder watch's thread): bubblewrap takes the kernel with it."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()

    def _cell_timeout(self, cell: NotebookNode) -> int:
        left = self._deadline - time.monotonic()
        return max(1, int(min(self._settings.cell_limit, left)))

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        if cell.cell_type == "code" and time.monotonic() >= self._deadline:
            self._stopped = True
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        """nbclient's handling of one kernel message, with output past the limits dropped as it arrives."""
        kept = self._output.admit(msg, cell_index)
        try:
            return super().process_message(msg, cell, cell_index) if kept else None
        finally:
            self._output.note_in(cell, cell_index)


class CleanJudge(NbGraderPreprocessor):
    """Scores the evidence in a clean process and writes each verdict as its judged grade cell's output.

    The grade cells' source comes from the gradebook, never from the submission.  Judged cells
    (those calling ``grade``/``require``, :mod:`autograder.host.cell_kinds`) get the judge's
    verdict; plain nbgrader test cells keep the sandboxed kernel's output, which nbgrader
    scores as usual.  When the notebook's own judged cells claimed more than the judge
    confirms, the feedback says so.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        state = resources.get(METADATA)
        if state is None:
            raise RuntimeError("CleanJudge needs SandboxedExecute before it in "
                               "Autograde.autograde_preprocessors (see nbgrader_config.py)")
        info = resources["nbgrader"]
        settings: SafeGrading = state["settings"]
        scratch: Path = state["scratch"]
        judge: Judge | None = state.get("judge")
        refused = bool(nb.metadata.get(METADATA, {}).get("refused"))
        try:
            cells = trusted_grade_cells(info["db_url"], info["assignment"], info["notebook"])
            judged = [c for c in cells if is_judged(c["source"])]
            unchecked = refused or bool(judged and judge is None)
            if unchecked:
                judged, verdicts = cells, {c["grade_id"]: (0.0, "not graded") for c in cells}
            else:
                verdicts = {}
                if judged:
                    verdicts, failure = judge.verdicts(judged)
                    if failure is not None:
                        _note(nb, f"the judge could not check the evidence: {failure}")
                _note(nb, *kernel_events(nb, settings))
                if state["finished"] and judged:
                    claimed = self._claimed(nb, {c["grade_id"] for c in judged})
                    _note(nb, *tampering_note(claimed, {g: p for g, (p, _) in verdicts.items()}))
        finally:
            if judge is not None:
                judge.close()
            shutil.rmtree(scratch, ignore_errors=True)
        problems = nb.metadata.get(METADATA, {}).get("problems", [])
        prefix = ("; ".join(problems) + "\n") if problems else ""
        note = "" if unchecked else "\n" + JUDGED_NOTE
        annotate_verdicts(nb, {g: (points, prefix + message + note) for g, (points, message) in
                               verdicts.items()})
        # Plain cells keep their output (nbgrader scores it); the problems and what scored them go on
        # top, as stdout: nbgrader scores a grade cell with any stderr output 0.
        plain = {c["grade_id"] for c in cells} - {c["grade_id"] for c in judged}
        for cell in nb.cells:
            if cell.cell_type == "code" and grade_id(cell) in plain:
                cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout",
                                                              text=prefix + PLAIN_NOTE + "\n"))
        return nb, resources

    def _claimed(self, nb: NotebookNode, judged: set[str]) -> dict[str, float]:
        """What the notebook's own judged grade cells scored, read the way nbgrader reads them."""
        claimed = {}
        for cell in nb.cells:
            if cell.cell_type == "code" and is_grade(cell) and grade_id(cell) in judged:
                points, _ = determine_grade(cell, self.log)
                claimed[grade_id(cell)] = float(points or 0.0)
        return claimed


# The steps a worker runs for the collecting process (SandboxedExecute, then CleanJudge).
GRADING_STEPS = (f"{__name__}.SandboxedExecute", f"{__name__}.CleanJudge")


class ReplayGraded(NbGraderPreprocessor):
    """Puts in the notebook a worker already graded (sandbox and judge), instead of running it again.

    The collecting process of class grading runs nbgrader's ``Autograde`` with this in place
    of :class:`SandboxedExecute` and :class:`CleanJudge` (:func:`replay_pipeline`), so the
    gradebook and ``autograded/`` are written by nbgrader's own steps, one submission at a time.
    """

    graded_dir = Unicode(help="Folder of graded notebooks: STUDENT/NOTEBOOK.ipynb").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        path = Path(self.graded_dir) / info["student"] / f"{info['notebook']}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"no graded copy of {info['notebook']} for {info['student']} "
                                    f"in {path.parent}")
        import nbformat

        return nbformat.read(path, as_version=4), resources


def replay_pipeline(preprocessors: list) -> list:
    """``Autograde.autograde_preprocessors`` with the grading steps replaced by :class:`ReplayGraded`.

    Refuses a pipeline without them: the course would not be graded safely, so neither is this.
    """
    names = [p if isinstance(p, str) else f"{p.__module__}.{p.__name__}" for p in preprocessors]
    if names.count(GRADING_STEPS[0]) != 1 or GRADING_STEPS[1] not in names:
        raise ValueError("Autograde.autograde_preprocessors must hold SandboxedExecute and CleanJudge "
                         "(see this project's nbgrader_config.py)")
    replay = f"{__name__}.ReplayGraded"
    return [replay if name == GRADING_STEPS[0] else name for name in names if name != GRADING_STEPS[1]]
