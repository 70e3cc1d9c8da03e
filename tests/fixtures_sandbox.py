"""Fixtures for the sandbox tests (registered in tests/conftest.py).

`sandbox_api` serves the sandbox over real HTTP (pytest-django's live_server) with a
fresh API key and points the dashboard at it; `seeded_sandbox` adds 200 leads.
"""

from dataclasses import dataclass

import pytest

from leadsadmin.sandbox.models import ApiKey
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
    return api


@pytest.fixture
def seeded_sandbox(sandbox_api):
    """`sandbox_api` after `sandbox_seed(200, seed=1)`; `.count` is 200."""
    sandbox_api.count = sandbox_seed(200, seed=1)
    return sandbox_api
