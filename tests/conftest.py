import importlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from leadsadmin.core import roles

# Each area keeps its fixtures in its own module.
pytest_plugins = ["tests.fixtures_sandbox", "tests.fixtures_leads", "tests.fixtures_bulk"]

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT.parent / "shared" / "payload-reference"

ROLE_USERS = {
    "salesops": roles.SALES_OPS,
    "teamlead": roles.TEAM_LEADS,
    "auditor": roles.AUDITORS,
}


@pytest.fixture
def make_user(db):
    """Creates a staff user in one role ("salesops", "teamlead", "auditor"),
    a superuser ("admin"), or with no role at all ("norole")."""

    def make(kind: str, username: str | None = None) -> User:
        username = username or kind
        if not Group.objects.filter(name__in=ROLE_USERS.values()).exists():
            # A live_server test's flush removes what the roles migration wrote.
            roles_migration = importlib.import_module("leadsadmin.core.migrations.0002_roles")
            roles_migration.create_roles(apps, None)
        if kind == "admin":
            return User.objects.create_superuser(username, f"{username}@example.com", "pw")
        user = User.objects.create_user(username, f"{username}@example.com", "pw")
        if kind in ROLE_USERS:
            user.groups.add(Group.objects.get(name=ROLE_USERS[kind]))
        return user

    return make


@pytest.fixture
def client_as(client, make_user):
    """A Django test client signed in as a new user of the given kind."""

    def sign_in(kind: str):
        client.force_login(make_user(kind))
        return client

    return sign_in


@pytest.fixture(scope="session")
def payload_reference(tmp_path_factory):
    """The real Payload 3.90.2 server of ../shared/payload-reference, for contract tests."""
    if not REFERENCE.is_dir():
        pytest.skip(f"the Payload reference server is not at {REFERENCE}")
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(
            "the Payload reference server needs node >= 20 and npm, which are not installed"
        )
    workdir = os.environ.get("PAYLOAD_REF_WORKDIR") or str(REPO_ROOT / "var" / "payload-ref")
    os.makedirs(workdir, exist_ok=True)
    env = {**os.environ, "PAYLOAD_REF_WORKDIR": workdir, "PAYLOAD_REF_PORT": "0"}
    result = subprocess.run(
        [REFERENCE / "run.sh"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"payload reference did not start:\n{result.stderr}")
    info = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("PAYLOAD_REF_")
    )
    yield {"url": info["PAYLOAD_REF_URL"], "authorization": info["PAYLOAD_REF_KEY"]}
    subprocess.run([REFERENCE / "run.sh", "stop", workdir], check=False)
