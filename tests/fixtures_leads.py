"""Fixtures for the leads tests (registered in tests/conftest.py)."""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from leadsadmin.api.client import LeadsClient


@dataclass
class RecordingApi:
    """A leads API behind httpx.MockTransport: records every request it gets and
    answers with `respond(request) -> httpx.Response` (an empty page by default)."""

    requests: list = field(default_factory=list)
    respond: object = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.respond is not None:
            return self.respond(request)
        return httpx.Response(200, json=empty_page())

    def params(self, number: int = -1) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(str(self.requests[number].url)).query)


def empty_page(docs=(), total=None, limit=25, page=1):
    total = len(docs) if total is None else total
    pages = max(1, -(-total // limit)) if total else 0
    return {
        "docs": list(docs),
        "totalDocs": total,
        "limit": limit,
        "totalPages": pages,
        "page": page,
        "pagingCounter": (page - 1) * limit + 1,
        "hasPrevPage": page > 1,
        "hasNextPage": page < pages,
        "prevPage": page - 1 if page > 1 else None,
        "nextPage": page + 1 if page < pages else None,
    }


@pytest.fixture
def recording_api(monkeypatch):
    """Points the dashboard at a RecordingApi instead of a server."""
    api = RecordingApi()
    client = LeadsClient(
        "http://leads-api.test/api",
        "users API-Key recording",
        5,
        transport=httpx.MockTransport(api.handle),
        max_attempts=1,
        sleep=lambda _seconds: None,
    )
    monkeypatch.setattr("leadsadmin.api.get_client", lambda: client)
    yield api
    client.close()


def json_response(status, body):
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
