"""Named checks that grade cells call; each returns a CheckResult with a message per part.

Instructors write their own judged checks with ``CheckResult`` and ``probes``: see
:mod:`autograder.checks.custom`.
"""

from autograder.checks.answers import check_choice, check_function_cases, check_value
from autograder.checks.custom import CheckResult, RecordedError, probes
from autograder.checks.data import (
    check_batching,
    check_no_validation_leak,
    check_scaling,
    check_shapes_and_labels,
    check_split_sizes,
)
from autograder.checks.model import check_architecture, check_compile
from autograder.checks.training import (
    check_long_run,
    check_run_batch_size,
    check_test_evaluation,
    check_training_history,
    check_trend,
)
from autograder.checks.variants import check_baseline_run, check_best_run, check_variant

__all__ = [
    "check_architecture", "check_batching", "check_choice", "check_compile",
    "check_function_cases", "check_long_run", "check_no_validation_leak", "check_run_batch_size",
    "check_scaling", "check_shapes_and_labels", "check_split_sizes", "check_test_evaluation",
    "check_training_history", "check_trend", "check_value", "check_variant", "check_best_run",
    "check_baseline_run", "CheckResult", "RecordedError", "probes",
]
