"""nbgrader's gradebook in a real PostgreSQL server the tests start (tests/postgres.py)."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy

from autograder.host.course import nbgrader_env


def test_nbgraders_schema_is_created_in_a_fresh_postgres_database_and_read_back(postgres_url):
    from nbgrader.api import Gradebook

    with Gradebook(postgres_url) as gb:
        gb.add_student("ada", first_name="Ada")
        gb.add_assignment("mnist_batch_size")
    with Gradebook(postgres_url) as gb:  # a second connection sees what the first committed
        assert [s.id for s in gb.students] == ["ada"]
        assert gb.find_assignment("mnist_batch_size").name == "mnist_batch_size"


def test_nbgraders_command_line_writes_into_postgres(postgres_url, tmp_path):
    from nbgrader.api import Gradebook

    proc = subprocess.run([sys.executable, "-m", "nbgrader", "db", "student", "add", "bo",
                           f"--CourseDirectory.db_url={postgres_url}"], cwd=tmp_path, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with Gradebook(postgres_url) as gb:
        assert [s.id for s in gb.students] == ["bo"]


def test_the_test_server_listens_on_127_0_0_1_only(postgres_server):
    engine = sqlalchemy.create_engine(postgres_server.url())
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SHOW listen_addresses")).scalar() == "127.0.0.1"
    engine.dispose()
