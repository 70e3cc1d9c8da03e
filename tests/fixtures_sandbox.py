"""Fixtures for the sandbox tests (registered in tests/conftest.py).

`sandbox_api` serves the sandbox over real HTTP (pytest-django's live_server) with a
fresh API key and points the dashboard at it; `seeded_sandbox` adds 200 leads.
"""

from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from leadsadmin.api import close_client
from leadsadmin.sandbox.models import ApiKey, Lead
from leadsadmin.sandbox.seed import sandbox_seed


@dataclass
class SandboxApi:
    url: str
    authorization: str
    count: int = 0


@pytest.fixture
def sandbox_api(live_server, settings):
    """The sandbox at `.url` (live_server.url + "/sandbox/api") with a fresh key's
    full header value in `.authorization`; the dashboard's settings point at it."""
    _, plain = ApiKey.issue("tests")
    api = SandboxApi(url=live_server.url + "/sandbox/api", authorization=ApiKey.header_value(plain))
    settings.SANDBOX_ENABLED = True
    settings.LEADS_API_URL = api.url
    settings.LEADS_API_KEY = api.authorization
    yield api
    # The process-wide client keeps connections to this server alive; on
    # PostgreSQL their server threads would hold the test database open.
    close_client()


@pytest.fixture
def seeded_sandbox(sandbox_api):
    """`sandbox_api` after `sandbox_seed(200, seed=1)`; `.count` is 200."""
    sandbox_api.count = sandbox_seed(200, seed=1)
    return sandbox_api


def _plain_handler(application):
    """LiveServerThread wants a static-files handler; the sandbox needs none."""
    return application


@contextmanager
def shared_sandbox(django_db_blocker, fill):
    """A sandbox server of its own, for a whole test module that only talks HTTP:
    `fill()` stores the leads once, the server thread serves them, and no test
    flushes them in between (the module's tests request no db fixture). Cleans
    up after itself; sets up the test database when no other test has."""
    from django.conf import settings
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        own_databases = None
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            own_databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        enabled, settings.SANDBOX_ENABLED = settings.SANDBOX_ENABLED, True
        server = LiveServerThread("127.0.0.1", _plain_handler, connections_override={})
        server.daemon = True
        try:
            Lead.objects.all().delete()
            count = fill()
            _, plain = ApiKey.issue("shared sandbox")
            server.start()
            server.is_ready.wait()
            if server.error:
                raise server.error
            yield SandboxApi(
                url=f"http://127.0.0.1:{server.port}/sandbox/api",
                authorization=ApiKey.header_value(plain),
                count=count,
            )
        finally:
            if server.is_alive():
                server.terminate()
            settings.SANDBOX_ENABLED = enabled
            Lead.objects.all().delete()
            ApiKey.objects.all().delete()
            if own_databases is not None:
                _close_server_sessions(connection)
                teardown_databases(own_databases, verbosity=0)


def _close_server_sessions(connection):
    """PostgreSQL will not drop a test database while the server's request threads
    still hold sessions on it (they live until garbage-collected)."""
    from django.db import connections

    connections.close_all()
    if connection.vendor != "postgresql":
        return
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
