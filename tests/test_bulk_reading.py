"""Reading a review's leads in parallel id ranges: every match once, errors surface."""

import httpx
import pytest

from leadsadmin.api.errors import ServerError
from leadsadmin.bulk.reading import matched_lead_pages
from leadsadmin.sandbox.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("readers", [1, 3])
@pytest.mark.parametrize(
    "where",
    [
        {},
        {"or": [{"and": [{"processStatuses": {"in": ["Lost", "On Hold"]}}]}]},
    ],
)
def test_every_matched_lead_comes_once_in_pages(
    seeded_sandbox, scripted_client, settings, where, readers
):
    settings.BULK_REVIEW_READERS = readers
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


def test_one_reader_reads_page_after_page_without_looking_up_the_id_span(
    seeded_sandbox, scripted_client, settings
):
    class Reads(httpx.BaseTransport):
        def __init__(self):
            self.inner, self.urls = httpx.HTTPTransport(), []

        def handle_request(self, request):
            self.urls.append(str(request.url))
            return self.inner.handle_request(request)

    settings.BULK_REVIEW_READERS = 1
    reads = Reads()
    client = scripted_client(transport=reads)
    count = seeded_sandbox.count
    pages = list(matched_lead_pages(client, {}, select=["id"], count=count, page_size=10))
    ids = [lead["id"] for page in pages for lead in page]
    assert ids == sorted(ids) and len(ids) == count  # one keyset iteration, in id order
    # No lookup of the last id (a find sorted by -id): only the pages were read.
    assert len(reads.urls) <= count // 10 + 1  # the pages, and at most one that comes back empty
    assert not any("sort=-id" in url for url in reads.urls)


@pytest.mark.parametrize("readers", [1, 3])
def test_a_failing_reader_raises_in_the_review(seeded_sandbox, scripted_client, settings, readers):
    settings.BULK_REVIEW_READERS = readers

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
