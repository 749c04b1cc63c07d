"""Builds the wheel with the course inside: the checkout's course files as package data.

A checkout is itself a course directory (``nbgrader_config.py``, ``source/``) beside the packages;
setuptools only ships files inside a package, so the build copies them into
``autograder/course_files/`` (what :data:`autograder.host.course.TEMPLATE` finds in a wheel).
An editable install reads them from the checkout instead.  Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
COURSE_FILES = ("nbgrader_config.py", "jupyterhub_config.py", "source")  # = course.TEMPLATE_FILES
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


class BuildWithCourse(build_py):
    """setuptools' build_py, then the course files into the built ``autograder`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "autograder" / "course_files"
        shutil.rmtree(target, ignore_errors=True)  # a stale build/ never adds files the checkout lost
        target.mkdir(parents=True)
        for name in COURSE_FILES:
            path = HERE / name
            if path.is_dir():
                shutil.copytree(path, target / name, ignore=IGNORED)
            else:
                shutil.copyfile(path, target / name)


setup(cmdclass={"build_py": BuildWithCourse})
