import importlib
import os

import pytest
import redis
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


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """A quick hasher for every test's users: Django's PBKDF2 takes about half a
    second per password here, and the hasher's cost is not what any test is about
    (one test created 51 users in 35 s)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


# --- Redis: the `redis` tests need one (REDIS_URL for RQ, TEST_REDIS_URL for the API
# limits; both default to this machine's); without it they are
# deselected with one line, and CI (CI or CONTRACT_TESTS_REQUIRED set) stops instead.

missing_redis_line = pytest.StashKey[str]()


def redis_missing_reason() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} not reachable ({type(exc).__name__})"
    return None


def pytest_collection_modifyitems(config, items):
    wanting = [item for item in items if item.get_closest_marker("redis")]
    if not wanting or (reason := redis_missing_reason()) is None:
        return
    line = f"{reason}: {len(wanting)} redis tests deselected"
    if os.environ.get("CI") or os.environ.get("CONTRACT_TESTS_REQUIRED"):
        raise pytest.UsageError(f"{line}, but CI needs them")
    config.hook.pytest_deselected(items=wanting)
    items[:] = [item for item in items if not item.get_closest_marker("redis")]
    config.stash[missing_redis_line] = line


def pytest_terminal_summary(terminalreporter, config):
    if missing_redis_line in config.stash:
        terminalreporter.write_line(config.stash[missing_redis_line], yellow=True)
