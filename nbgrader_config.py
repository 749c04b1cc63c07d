"""nbgrader configuration for the MNIST batch-size course (this folder is the course directory)."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader/traitlets when this file is loaded

c.CourseDirectory.course_id = "mnist-batch-size"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)
# Never copy large or generated files from source/ into the release or submissions, nor
# grade-all's per-student log and record (autograded/STUDENT/ASSIGNMENT/grading.*) into feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "grading.log", "grading.json"]

# Executing a student's notebook: a cell that runs longer than this many seconds is
# interrupted (the cells after it still run), and the kernel is not restarted for another
# try (a hanging notebook should not be run twice).  Safe grading uses the same per-cell limit.
c.Execute.timeout = 150
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# Safe grading, wherever autograding starts (the Formgrader's Autograde button, `nbgrader
# autograde`, `python -m autograder grade-all`): nbgrader's own pipeline, with the student's
# kernel in the sandbox instead of nbgrader's Execute, and the scores from a clean judge that
# re-checks the kernel's evidence with the gradebook's trusted cells (autograder/host/preprocessors.py).
# Everything else is nbgrader's stock pipeline, so the gradebook gets what nbgrader writes.
# Before anything is graded or recorded: the machine checks of `mnist-autograder doctor` (MNIST,
# the sandbox, the gradebook); when one fails, autograding stops with one message naming the fix.
c.Autograde.exporter_class = "autograder.host.preflight.CheckedExporter"
c.Autograde.sanitize_preprocessors = [
    "autograder.host.preprocessors.CheckSubmission",  # notes changed grade cells first
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.host.preprocessors.SandboxedExecute",  # instead of nbgrader.preprocessors.Execute
    "autograder.host.preprocessors.CleanJudge",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# The sandbox, the judge and grade-all's Dask cluster have their own limits, c.SafeGrading.*
# (the per-cell one defaults to Execute.timeout above): `mnist-autograder --help-all` describes
# each, `mnist-autograder --generate-config` writes them all. Set them here, in
# ~/.jupyter/nbgrader_config.py, or on the command line (--SafeGrading.timeout=600).

# What `generate_assignment` puts in place of each solution: nbgrader's defaults, stated here
# (tests/test_notebooks.py counts them in the release notebooks).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Where release/fetch/submit/collect exchange files.  On a shared server this is a folder
# every user can reach; for a single machine the course keeps its own.
c.Exchange.root = os.environ.get(
    "NBGRADER_EXCHANGE", os.path.join(c.CourseDirectory.root, ".exchange")
)
c.Exchange.path_includes_course = True
# Students can write the exchange's inbound folder: collecting copies only regular files from
# it, never a link's target, and refuses a submission holding links, special files or odd
# names, naming the student and the reason in the log (autograder/host/exchange.py).
c.ExchangeFactory.collect = "autograder.host.exchange.SafeCollect"
c.ExchangeFactory.release_feedback = "autograder.host.exchange.SafeReleaseFeedback"
c.ExchangeFactory.fetch_feedback = "autograder.host.exchange.SafeFetchFeedback"

# Feedback on submit: `mnist-autograder feedback-service` (on `make hub`, a JupyterHub service run
# as the instructor) grades each new submission in the exchange and releases that student's
# feedback within minutes.  Off until switched on here; its other c.FeedbackOnSubmit settings:
# `mnist-autograder --help-all`.
c.FeedbackOnSubmit.enabled = False

# Feedback shows each check's message and score, never the hidden tests' code (nbgrader shows
# it by default, nbgrader issue #1363).  To show it: c.HideHiddenTests.enabled = False
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.host.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
