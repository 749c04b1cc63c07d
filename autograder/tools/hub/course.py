"""The course for its users: in the instructor's home, and what each user's Jupyter and nbgrader are told."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from autograder.host.course import TEMPLATE, require_template
from autograder.host.settings import course_config
from autograder.tools.hub.errors import HubError, run
from autograder.tools.hub.layout import COURSE_ID, HubLayout
from autograder.tools.hub.permissions import readable_to_all

# The course's settings a student's server takes (students never read its config file): the execution
# limits (Validate), and the feedback fetch that never follows a link (autograder.host.exchange).
STUDENT_SETTINGS = {"Execute": ("timeout", "interrupt_on_timeout", "execute_retries"),
                    "ExchangeFactory": ("fetch_feedback",)}


def student_nbgrader_settings(user: str, layout: HubLayout) -> dict:
    """A student's nbgrader settings: the course and exchange, and the course's execution limits."""
    course = course_config(TEMPLATE)  # root reads the installed course's config, never the instructor's
    settings: dict = {"CourseDirectory": {"course_id": COURSE_ID},
                      "Exchange": {"root": os.fspath(layout.exchange), "path_includes_course": True}}
    for section, names in STUDENT_SETTINGS.items():
        settings[section] = {n: course[section][n] for n in names if n in course.get(section, {})}
    if layout.dev:  # one Unix user for everyone: nbgrader would submit all work under its name
        settings["CourseDirectory"]["student_id"] = user
    return settings


def write_user_config(layout: HubLayout, user: str) -> Path:
    """Write ``user``'s Jupyter config folder (its server's ``JUPYTER_CONFIG_PATH``).

    The instructor gets every nbgrader extension and the course as nbgrader's course directory;
    a student gets the Assignment List, Courses and Validate, and no Formgrader or Create
    Assignment (the server extension off and the JupyterLab plugins disabled).
    """
    from autograder.tools.lab import write_config

    folder = layout.jupyter_config(user)
    instructor = user == layout.instructor
    write_config(folder, instructor=instructor)
    nbgrader = ({"CourseDirectory": {"root": os.fspath(layout.course)}} if instructor
                else student_nbgrader_settings(user, layout))
    (folder / "nbgrader_config.json").write_text(json.dumps(nbgrader, indent=1) + "\n")
    readable_to_all(folder)  # root's, read-only to the user
    return folder


def install_course(layout: HubLayout) -> Path:
    """The course directory in the instructor's home: nbgrader_config.py and source/ (never overwritten)."""
    course = layout.course
    if course.is_symlink():  # root copies and chowns here: never through a link the user made
        raise HubError(f"{course} is a symbolic link: make it a folder (or remove it) and start again")
    if not (course / "nbgrader_config.py").is_file():
        course.mkdir(parents=True, exist_ok=True)
        shutil.copytree(require_template() / "source", course / "source", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        # Last: a copy cut short is made again at the next start.
        shutil.copyfile(TEMPLATE / "nbgrader_config.py", course / "nbgrader_config.py")
        if not layout.dev:  # the instructor's, like the rest of their home
            run(["chown", "-R", f"{layout.instructor}:", os.fspath(course)])
    return course

