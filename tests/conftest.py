import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from leadsadmin.core import roles

# Each area keeps its fixtures in its own module.
pytest_plugins = [
    "tests.fixtures_sandbox",
    "tests.fixtures_leads",
    "tests.fixtures_bulk",
    "tests.fixtures_workers",
]

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
