# Attack: replace every check, grade(), require() and the judge's run_cell in the kernel with full marks.
import autograder.checks as c
import autograder.grading as g
import autograder.judge as j
from autograder.checks.result import CheckResult, Part


def full(*a, **k):
    return CheckResult([Part(True, "ok")])


for name in dir(c):
    if name.startswith("check_"):
        setattr(c, name, full)
g.run_check = full
g.grade = lambda *a, out_of=1, **k: out_of
g.require = lambda *a, **k: None
j.run_cell = lambda source, ns, max_points: (max_points, "ok")
