"""Reading a review's leads in parallel id ranges: every match once, errors surface."""

import httpx
import pytest

from leadsadmin.api.errors import ServerError
from leadsadmin.bulk.reading import matched_lead_pages
from leadsadmin.sandbox.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"or": [{"and": [{"processStatuses": {"in": ["Lost", "On Hold"]}}]}]},
    ],
)
def test_every_matched_lead_comes_once_in_pages(seeded_sandbox, scripted_client, where):
    client = scripted_client()
    expected = set(Lead.objects.values_list("id", flat=True))
    if where:
        expected = set(
            Lead.objects.filter(processStatuses__in=["Lost", "On Hold"]).values_list(
                "id", flat=True
            )
        )
    pages = list(
        matched_lead_pages(
            client, where, select=["id", "updatedAt"], count=len(expected), page_size=10
        )
    )
    ids = [lead["id"] for page in pages for lead in page]
    assert sorted(ids) == sorted(expected)  # each once
    assert all(len(page) <= 10 for page in pages)
    assert all(set(lead) == {"id", "updatedAt"} for page in pages for lead in page)


def test_a_failing_reader_raises_in_the_review(seeded_sandbox, scripted_client):
    class FailThirdRead(httpx.BaseTransport):
        def __init__(self):
            self.inner, self.reads = httpx.HTTPTransport(), 0

        def handle_request(self, request):
            self.reads += 1
            if self.reads == 4:
                return httpx.Response(500, json={"errors": [{"message": "Something went wrong."}]})
            return self.inner.handle_request(request)

    client = scripted_client(transport=FailThirdRead())
    with pytest.raises(ServerError):
        for _ in matched_lead_pages(
            client, {}, select=["id"], count=seeded_sandbox.count, page_size=10
        ):
            pass
