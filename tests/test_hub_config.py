"""The hub's configuration, without starting it: who gets what, on which ports, from which settings.

tests/test_hub.py starts the real hub and drives it in a browser; these check the pieces fast.
"""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from autograder.host.settings import course_config
from autograder.tools import hub
from autograder.tools.hub import HubError, HubLayout
from tests.helpers import ROOT


@pytest.fixture
def dev_layout(tmp_path: Path) -> HubLayout:
    layout = HubLayout(tmp_path / "hub", "teacher", ("ada", "bob"), port=8300, dev=True)
    (layout.state).mkdir(parents=True)
    (layout.state / "dev-password").write_text("secret\n")
    return layout


def spawned_environment(c: Config, user: str) -> dict[str, str]:
    """What the pre-spawn hook gives ``user``'s server, as JupyterHub calls it."""
    spawner = SimpleNamespace(environment=dict(c.Spawner.get("environment", {})),
                              user=SimpleNamespace(name=user))
    c.Spawner.pre_spawn_hook(spawner)
    return spawner.environment


def server_extensions(folder: Path) -> dict[str, bool]:
    return json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]


@pytest.fixture
def homes_under_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unix accounts' homes, for a layout whose accounts this test does not create: under its root."""
    monkeypatch.setattr(HubLayout, "home", lambda self, user: self.root / "home" / user)


@pytest.mark.usefixtures("homes_under_root")
def test_the_hub_listens_on_127_0_0_1_only_with_unix_accounts_as_root(tmp_path: Path) -> None:
    layout = HubLayout(tmp_path, "teacher", ("ada", "bob"), port=8200, env=tmp_path / "env")
    c = Config()
    hub.configure(c, layout)
    assert (c.JupyterHub.ip, c.JupyterHub.port, c.JupyterHub.hub_ip, c.JupyterHub.hub_port) == (
        "127.0.0.1", 8200, "127.0.0.1", 8202)
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8201"
    assert c.ConfigurableHTTPProxy.command == [os.fspath(hub.PROXY)]
    assert (c.JupyterHub.authenticator_class, c.JupyterHub.spawner_class) == ("pam", "localprocess")
    assert c.Authenticator.allowed_users == {"teacher", "ada", "bob"}
    assert c.Spawner.cmd == [os.fspath(tmp_path / "env" / "bin" / "jupyterhub-singleuser")]
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'hub' / 'jupyterhub.sqlite'}"


@pytest.mark.usefixtures("homes_under_root")
def test_each_server_gets_its_user_s_config_folder_the_exchange_and_the_shared_mnist(tmp_path: Path) -> None:
    layout = HubLayout(tmp_path, "teacher", ("ada", "bob"), env=tmp_path / "env")
    c = Config()
    hub.configure(c, layout)
    envs = {user: spawned_environment(c, user) for user in layout.users}
    assert {u: e["JUPYTER_CONFIG_PATH"] for u, e in envs.items()} == {
        u: os.fspath(tmp_path / "jupyter" / u) for u in layout.users}
    for env in envs.values():
        assert env["TFDS_DATA_DIR"] == os.fspath(tmp_path / "tensorflow_datasets")
        assert env["NBGRADER_EXCHANGE"] == os.fspath(tmp_path / "exchange")
        # nbgrader calls alembic from PATH
        assert env["PATH"].split(os.pathsep)[0] == os.fspath(tmp_path / "env" / "bin")


def test_development_mode_uses_one_shared_password_and_homes_under_the_root(dev_layout: HubLayout) -> None:
    c = Config()
    hub.configure(c, dev_layout)
    assert (c.JupyterHub.authenticator_class, c.JupyterHub.spawner_class) == ("dummy", "simple")
    assert c.DummyAuthenticator.password == "secret"
    assert c.SimpleLocalProcessSpawner.home_dir_template == os.fspath(dev_layout.root / "home" / "{username}")
    assert dev_layout.course == dev_layout.root / "home" / "teacher" / hub.COURSE_ID


def test_a_student_gets_no_formgrader_and_the_course_s_execution_limits(dev_layout: HubLayout) -> None:
    folder = hub.write_user_config(dev_layout, "ada")
    server = server_extensions(folder)
    assert server["nbgrader.server_extensions.formgrader"] is False
    assert server["nbgrader.server_extensions.assignment_list"] is True
    assert server["nbgrader.server_extensions.validate_assignment"] is True
    disabled = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {name for name, off in disabled.items() if off} == {
        "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}
    nbgrader = json.loads((folder / "nbgrader_config.json").read_text())
    course = course_config(ROOT)
    assert nbgrader["Execute"]["timeout"] == course.Execute.timeout  # one source: the course's config
    # In development mode every server is one Unix user: nbgrader is told who submits.
    assert nbgrader["CourseDirectory"] == {"course_id": hub.COURSE_ID, "student_id": "ada"}
    assert nbgrader["Exchange"] == {"root": os.fspath(dev_layout.exchange), "path_includes_course": True}


def test_the_instructor_gets_every_extension_and_the_course_as_nbgrader_s_course_directory(
        dev_layout: HubLayout) -> None:
    folder = hub.write_user_config(dev_layout, "teacher")
    server = server_extensions(folder)
    assert all(server.values())
    disabled = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert not any(disabled.values())
    nbgrader = json.loads((folder / "nbgrader_config.json").read_text())
    assert nbgrader == {"CourseDirectory": {"root": os.fspath(dev_layout.course)}}


def test_the_course_goes_into_the_instructor_s_home_once_never_overwritten(dev_layout: HubLayout) -> None:
    course = hub.install_course(dev_layout)
    assert (course / "nbgrader_config.py").read_bytes() == (ROOT / "nbgrader_config.py").read_bytes()
    for assignment in ("mnist_batch_size", "mnist_hyperparameters"):  # both assignments, for the Formgrader
        assert (course / "source" / assignment / f"{assignment}.ipynb").is_file()
    (course / "nbgrader_config.py").write_text("# the instructor's own changes\n")
    hub.install_course(dev_layout)
    assert (course / "nbgrader_config.py").read_text() == "# the instructor's own changes\n"


def test_jupyterhub_config_py_configures_the_saved_layout(dev_layout: HubLayout,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hub.LAYOUT_ENV, os.fspath(dev_layout.save()))
    c = Config()
    runpy.run_path(os.fspath(hub.CONFIG_FILE), init_globals={"get_config": lambda: c})
    assert c.JupyterHub.port == 8300 and c.Authenticator.allowed_users == {"teacher", "ada", "bob"}
    assert HubLayout.load(dev_layout.state / "layout.json") == dev_layout


def test_unix_accounts_need_root_and_the_error_says_what_to_do(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(HubError, match="need root.*--dev"):
        hub.prepare(HubLayout(tmp_path, "teacher", ("ada",)))


def test_a_missing_proxy_names_the_command_that_installs_it(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub.config, "PROXY", tmp_path / "no-proxy")
    with pytest.raises(HubError, match="make hub-tools"):
        hub.prepare(HubLayout(tmp_path, "teacher", ("ada",), dev=True))


@pytest.mark.parametrize("instructor, students", [("root;rm", ("ada",)), ("Teacher", ("ada",)),
                                                  ("teacher", ()), ("teacher", ("ada", "teacher"))])
def test_user_names_that_useradd_or_nbgrader_would_refuse_are_refused_first(
        tmp_path: Path, instructor: str, students: tuple[str, ...]) -> None:
    with pytest.raises(HubError, match="a user name|different people"):
        hub.prepare(HubLayout(tmp_path, instructor, students, dev=True))


def test_root_never_copies_the_course_through_a_link_in_the_instructor_s_home(dev_layout: HubLayout,
                                                                              tmp_path: Path) -> None:
    dev_layout.course.parent.mkdir(parents=True)
    dev_layout.course.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(HubError, match="symbolic link"):
        hub.install_course(dev_layout)
    assert not (tmp_path / "elsewhere").exists()


def test_an_existing_account_whose_home_others_can_read_is_refused_not_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "ada"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    monkeypatch.setattr(hub.accounts, "account_exists", lambda user: True)
    monkeypatch.setattr(HubLayout, "home", lambda self, user: home)
    with pytest.raises(HubError, match="open to other users.*chmod 700"):
        hub.create_accounts(HubLayout(tmp_path, "teacher", ("ada",)))
    assert home.stat().st_mode & 0o777 == 0o755


@pytest.mark.usefixtures("homes_under_root")
def test_feedback_on_submit_runs_as_the_instructors_managed_service_never_as_root(
        tmp_path: Path, dev_layout: HubLayout) -> None:
    layout = HubLayout(tmp_path, "teacher", ("ada", "bob"), env=tmp_path / "env")
    c = Config()
    hub.configure(c, layout)
    (service,) = c.JupyterHub.services
    assert service["name"] == "mnist-feedback" and service["user"] == "teacher"
    assert service["command"] == [os.fspath(tmp_path / "env" / "bin" / "python"), "-m", "autograder",
                                  "feedback-service", os.fspath(layout.course)]
    assert service["environment"]["NBGRADER_EXCHANGE"] == os.fspath(tmp_path / "exchange")
    c = Config()
    hub.configure(c, dev_layout)  # one account for all: the service runs as the hub's user, like the servers
    assert "user" not in c.JupyterHub.services[0]
