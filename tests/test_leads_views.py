import csv
import io
import json
import re
from urllib.parse import urlencode

import httpx
import pytest
from django.http import QueryDict

from leadsadmin.api import get_client
from leadsadmin.leads.columns import COLUMNS, DEFAULT_COLUMNS, related_text
from leadsadmin.leads.filters import filter_from_querydict, where_from_filter
from leadsadmin.leads.models import ColumnPreference, SavedFilter
from leadsadmin.sandbox.querystring import parse_query_string
from tests.fixtures_leads import empty_page
from tests.test_leads_filters import CASES

pytestmark = pytest.mark.django_db
# Tests against the sandbox run on live_server's flushed database: recreate the roles.
live = pytest.mark.django_db(transaction=True)

HX = {"HTTP_HX_REQUEST": "true"}


def sent_query(request: httpx.Request) -> dict:
    """What the API received, parsed the way Payload parses it."""
    raw = request.url.query.decode()
    if request.method == "POST":  # the client's method override for long queries
        raw = request.content.decode()
    return parse_query_string(raw)


def one_condition(field, op, values):
    query = QueryDict(mutable=True)
    query.update({"c0": "0", "f0": field, "op0": op})
    query.setlist("v0", values)
    return query.urlencode()


# ---------------------------------------------------------------- the page


def test_the_page_has_the_builder_with_its_labels(client_as, recording_api):
    response = client_as("salesops").get("/leads/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        ">Field<",
        ">Operator<",
        ">Value<",
        ">Add condition<",
        ">Add OR group<",
        ">Add nested group<",
        ">Remove condition<",
        ">Preview<",
        ">Clear filter<",
        ">Columns shown<",
        ">All fields<",
        ">Load where JSON<",
        ">Save filter<",
    ):
        assert text in html, text
    assert '<optgroup label="Vehicle wishes">' in html


@pytest.mark.parametrize("kind", ["norole", "auditor"])
def test_the_page_needs_view_leads(client_as, recording_api, kind):
    assert client_as(kind).get("/leads/").status_code == 403
    assert recording_api.requests == []


@pytest.mark.parametrize(
    ("name", "op", "values", "sent"),
    [
        (name, op, values, sent)
        for name, cases in CASES.values()
        for op, (values, sent) in cases.items()
    ],
)
def test_each_type_and_operator_reaches_the_api_as_payload_where(
    client_as, recording_api, name, op, values, sent
):
    response = client_as("salesops").get("/leads/?" + one_condition(name, op, values))
    assert response.status_code == 200
    (request,) = recording_api.requests
    where = sent_query(request)["where"]
    leaf = where["or"][0]["and"][0][name][{"empty": "exists", "not_empty": "exists"}.get(op, op)]
    # Payload's query string carries strings; compare with what the where held.
    expected = (
        [str(v).lower() if isinstance(v, bool) else str(v) for v in sent]
        if isinstance(sent, list)
        else (str(sent).lower() if isinstance(sent, bool) else str(sent))
    )
    assert leaf == expected


@live
def test_has_all_of_previews_and_exports_the_leads_with_every_item(client_as, seeded_sandbox):
    query = one_condition("exterior", "all", ["Red", "Gray"])
    leads = get_client().iter_leads(select=["exterior"])
    expected = [lead["id"] for lead in leads if {"Red", "Gray"} <= set(lead["exterior"])]
    assert expected
    client = client_as("salesops")
    html = client.get("/leads/?" + query).content.decode()
    total = "1 lead matches" if len(expected) == 1 else f"{len(expected)} leads match"
    assert total in html
    response = client.get(f"/leads/export.csv?{query}&cols=name")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == len(expected) + 1


@live
def test_a_condition_past_the_bound_says_so_in_the_builder_and_nothing_is_read(
    client_as, seeded_sandbox, monkeypatch
):
    monkeypatch.setattr("leadsadmin.leads.resolution.MAX_RESOLVED_IDS", 3)
    query = one_condition("email", "not_contains", ["com"])
    client = client_as("salesops")
    html = client.get("/leads/?" + query).content.decode()
    assert "leads contain “com”; “does not contain” can leave out at most 3." in html
    assert "Fix the filter's errors to see the matching leads." in html
    assert client.get("/leads/export.csv?" + query).status_code == 400


def test_the_preview_asks_only_for_the_shown_columns_at_depth_1_for_a_relation(
    client_as, recording_api
):
    client = client_as("salesops")
    client.get("/leads/?" + one_condition("reason", "equals", ["Test"]))
    query = sent_query(recording_api.requests[0])
    assert "salesRep" in DEFAULT_COLUMNS
    assert query["depth"] == "1"  # the sales rep's name comes with the lead
    assert query["limit"] == "25"
    assert set(query["select"]) == {
        "id",
        "firstName",
        "lastName",
        *(c for c in DEFAULT_COLUMNS if c != "name"),
    }
    client.get("/leads/?cols=name,email,year")
    query = sent_query(recording_api.requests[-1])
    assert query["depth"] == "0"  # no relation shown: nothing to populate
    assert set(query["select"]) == {"id", "firstName", "lastName", "email", "year"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (one_condition("nope", "equals", ["x"]), "There is no field “nope”"),
        (one_condition("reason", "like", ["Test"]), "“like” is not an operator for Reason"),
        (one_condition("reason", "equals", ["test"]), "“test” is not an option of Reason"),
        (one_condition("year", "equals", ["abc"]), "“abc” is not a number"),
        (one_condition("updatedAt", "less_than", ["soon"]), "“soon” is not a date and time"),
        (one_condition("email", "equals", []), "Enter a value"),
    ],
)
def test_invalid_input_shows_at_the_condition_and_calls_no_api(
    client_as, recording_api, query, message
):
    client = client_as("salesops")
    for headers in ({}, HX):
        response = client.get("/leads/?" + query, **headers)
        html = response.content.decode()
        assert message in html
        assert 'id="error-0"' in html
        assert "nothing was searched" in html
        assert "Fix the filter's errors to see the matching leads." in html.replace("&#x27;", "'")
        assert "leads match" not in html
    assert recording_api.requests == []


def test_invalid_input_is_kept_as_typed(client_as, recording_api):
    html = client_as("salesops").get("/leads/?" + one_condition("reason", "in", ["Test", "Nope"]))
    html = html.content.decode()
    assert '<input type="checkbox" name="v0" value="Nope" checked> Nope (not an option)' in html
    assert '<input type="checkbox" name="v0" value="Test" checked> Test<' in html


def test_htmx_gets_the_workspace_and_the_canonical_url(client_as, recording_api):
    messy = "c5=0&f5=reason&v5=Test&page=1"
    response = client_as("salesops").get("/leads/?" + messy, **HX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="workspace"')
    assert response["HX-Push-Url"] == "/leads/?c0=0&f0=reason&op0=equals&v0=Test"


def test_sorting_and_paging_get_only_the_preview(client_as, recording_api):
    response = client_as("salesops").get(
        "/leads/?c0=0&f0=reason&v0=Test&sort=-year&page=2",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="preview",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="preview"')
    assert 'id="builder"' not in html
    assert '<input type="hidden" name="sort" value="-year" form="filter-form">' in html
    assert response["HX-Push-Url"] == "/leads/?c0=0&f0=reason&op0=equals&v0=Test&sort=-year&page=2"


def test_a_history_restore_gets_the_whole_page(client_as, recording_api):
    response = client_as("salesops").get(
        "/leads/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


# ---------------------------------------------------------------- builder actions


def test_buttons_work_without_javascript(client_as, recording_api):
    client = client_as("salesops")
    response = client.get("/leads/?c0=0&f0=reason&v0=Test&do=add-group:")
    assert response.status_code == 302
    assert response["Location"] == "/leads/?c0=0&f0=reason&op0=equals&v0=Test&c1=1"
    response = client.get(response["Location"] + "&do=add-condition:1")
    assert response["Location"].endswith("&c1=1&c2=1")
    response = client.get(response["Location"] + "&do=add-group:1")
    assert response["Location"].endswith("&c1=1&c2=1&c3=1.0")
    response = client.get(response["Location"] + "&do=remove:0")
    assert response["Location"] == "/leads/?c0=0&c1=0&c2=0.0"
    assert client.get(response["Location"] + "&do=clear")["Location"] == "/leads/"
    assert recording_api.requests == []


def test_buttons_through_htmx_swap_the_builder_only(client_as, recording_api):
    response = client_as("salesops").get("/leads/?c0=0&f0=reason&v0=Test&do=add-group:", **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="builder"')
    assert html.count('id="condition-') == 2
    assert response["HX-Retarget"] == "#builder"
    assert response["HX-Push-Url"] == "/leads/?c0=0&f0=reason&op0=equals&v0=Test&c1=1"
    assert recording_api.requests == []


@pytest.mark.parametrize("action", ["clear", "remove:0"])
def test_buttons_that_change_the_match_update_the_preview_too(client_as, recording_api, action):
    """Clear filter and Remove condition swap the whole workspace: a preview left
    showing the old filter's leads would disagree with the builder and the URL."""
    query = "c0=0&f0=reason&v0=Test&c1=0&f1=year&op1=greater_than&v1=2020"
    response = client_as("salesops").get(f"/leads/?{query}&do={action}", **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="workspace"')
    assert "HX-Retarget" not in response
    expected = "/leads/" if action == "clear" else "/leads/?c0=0&f0=year&op0=greater_than&v0=2020"
    assert response["HX-Push-Url"] == expected
    sent = sent_query(recording_api.requests[-1]).get("where")
    assert sent == (
        None if action == "clear" else {"or": [{"and": [{"year": {"greater_than": "2020"}}]}]}
    )


def test_typing_a_field_name_swaps_the_row_to_that_field(client_as, recording_api):
    client = client_as("salesops")
    html = client.get("/leads/condition/0?c0=0&f0=&find0=Exterior+color", **HX).content.decode()
    assert '<option value="exterior" selected>Exterior color</option>' in html
    assert "has any of" in html
    assert re.search(r'<input type="search" id="find0" name="find0"[^>]* value=""', html)
    html = client.get("/leads/condition/0?c0=0&f0=reason&find0=color", **HX).content.decode()
    assert '<option value="reason" selected>Reason</option>' in html
    assert "“color” matches 2 fields" in html
    assert re.search(r'id="find0"[^>]* value="color"[^>]* aria-invalid="true"', html)
    assert recording_api.requests == []


def test_the_search_box_works_without_javascript(client_as, recording_api):
    client = client_as("salesops")
    response = client.get("/leads/?c0=0&f0=&find0=reason&v0=Test")
    assert sent_query(recording_api.requests[-1])["where"] == {
        "or": [{"and": [{"reason": {"equals": "Test"}}]}]
    }
    assert '<option value="reason" selected>Reason</option>' in response.content.decode()
    calls = len(recording_api.requests)
    html = client.get("/leads/?c0=0&f0=&find0=zip&v0=1").content.decode()
    assert "“zip” matches 3 fields" in html
    assert len(recording_api.requests) == calls  # no API call for invalid input


def test_the_page_has_one_list_of_field_suggestions(client_as, recording_api):
    html = client_as("salesops").get("/leads/?c0=0&c1=1").content.decode()
    assert html.count('<datalist id="lead-field-names">') == 1
    assert html.count('list="lead-field-names"') == 2
    assert '<option value="Exterior color">Vehicle wishes</option>' in html


@pytest.mark.parametrize("action", ["add-condition:0", "add-group:", "add-group:0"])
def test_an_added_row_takes_the_focus(client_as, recording_api, action):
    """The clicked button is swapped away; the keyboard goes on in the new row."""
    html = client_as("salesops").get(f"/leads/?c0=0&f0=reason&v0=Test&do={action}", **HX)
    html = html.content.decode()
    assert html.count("autofocus") == 1
    assert re.search(r'<input type="search" id="find1"[^>]* autofocus[ >]', html)


def test_after_removing_a_row_the_next_one_takes_the_focus(client_as, recording_api):
    client = client_as("salesops")
    query = "c0=0&f0=reason&v0=Test&c1=0&f1=year&v1=2020&c2=1&f2=email&v2=x"
    for removed, focused in (("1", "find1"), ("2", "find1"), ("0", "find0")):
        response = client.get(f"/leads/?{query}&do=remove:{removed}", **HX)
        html = response.content.decode()
        assert html.count("autofocus") == 1
        assert re.search(rf'<input type="search" id="{focused}"[^>]* autofocus[ >]', html)


def test_the_table_state_survives_builder_buttons(client_as, recording_api):
    response = client_as("salesops").get("/leads/?c0=0&sort=-year&size=50&do=add-group:")
    assert response["Location"] == "/leads/?c0=0&c1=1&sort=-year&size=50"


def test_changing_the_field_swaps_operator_and_value_controls(client_as, recording_api):
    client = client_as("salesops")
    response = client.get("/leads/condition/2?c2=0.1&f2=exterior&op2=like&v2=Red", **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="condition" id="condition-2"')
    assert '<input type="hidden" name="c2" value="0.1">' in html
    assert '<option value="equals" selected>has</option>' in html
    assert "has an item outside" in html
    assert "has none of" not in html
    assert '<option value="Red" selected>Red</option>' in html
    response = client.get("/leads/condition/0?c0=0&f0=phone&op0=like&v0=555", **HX)
    html = response.content.decode()
    assert '<option value="like" selected>contains all the words</option>' in html
    assert 'value="555"' in html
    response = client.get("/leads/condition/0?c0=0&f0=exterior&op0=in&v0=Red&v0=Blue", **HX)
    html = response.content.decode()
    assert '<input type="checkbox" name="v0" value="Red" checked>' in html
    assert '<input type="checkbox" name="v0" value="Black">' in html
    assert "<select" not in html.split('class="condition-part condition-value"')[1]
    assert recording_api.requests == []


# ---------------------------------------------------------------- the preview


def test_an_api_failure_shows_a_banner_and_keeps_the_filter(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        500, json={"errors": [{"message": "Something went wrong."}]}
    )
    response = client_as("salesops").get(
        "/leads/?" + one_condition("reason", "equals", ["Test"]), **HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The leads could not be loaded." in html
    assert 'role="alert"' in html
    assert '<option value="Test" selected>Test</option>' in html
    assert "users API-Key recording" not in html
    assert "leads match" not in html


def test_an_unreachable_api_shows_a_banner(client_as, recording_api):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    recording_api.respond = refuse
    html = client_as("salesops").get("/leads/").content.decode()
    assert "The leads could not be loaded." in html


def test_the_count_has_thousands_separators_and_pages(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200, json=empty_page([{"id": 1, "firstName": "Ada", "lastName": "L"}], total=12345)
    )
    html = client_as("salesops").get("/leads/").content.decode()
    assert "12,345 leads match" in html
    assert "Page 1 of 494" in html
    assert ">Next<" in html


def test_values_are_shown_by_type(client_as, recording_api, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    doc = {
        "id": 9,
        "firstName": "Ada",
        "lastName": None,
        "exterior": ["Red", "Light Blue"],
        "manual": False,
        "updatedAt": "2026-07-01T10:00:00.000Z",
        "reason": None,
    }
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([doc]))
    cols = "name,exterior,manual,updatedAt,reason"
    html = client_as("salesops").get(f"/leads/?cols={cols}").content.decode()
    assert '<span class="tag">Red</span><span class="tag">Light Blue</span>' in html
    assert "<span>no</span>" in html
    assert "2026-07-01 12:00" in html
    assert 'aria-label="empty">—</span>' in html
    assert 'href="/leads/9/"' in html


def test_a_lead_without_a_name_still_has_a_named_link(client_as, recording_api):
    doc = {"id": 7, "firstName": None, "lastName": None}
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([doc]))
    html = client_as("salesops").get("/leads/?cols=name").content.decode()
    assert re.search(r'<a href="/leads/7/"[^>]* aria-label="Lead 7">', html)


def test_date_times_follow_the_time_zone_the_browser_reports(client_as, recording_api):
    """time-zone.js sets the tz cookie; cells, typed date-times and the export use it."""
    doc = {"id": 9, "updatedAt": "2026-01-10T10:00:00.000Z"}
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([doc]))
    client = client_as("salesops")
    client.cookies["tz"] = "America%2FNew_York"
    query = one_condition("createdAt", "greater_than", ["2026-01-10T12:00"])
    html = client.get(f"/leads/?{query}&cols=updatedAt").content.decode()
    assert "<span>2026-01-10 05:00</span>" in html
    assert "Times in America/New_York" in html
    where = sent_query(recording_api.requests[-1])["where"]
    assert where == {"or": [{"and": [{"createdAt": {"greater_than": "2026-01-10T17:00:00.000Z"}}]}]}
    export = client.get(f"/leads/export.csv?{query}&cols=updatedAt")
    assert (
        b"".join(export.streaming_content).decode().splitlines()[1] == "2026-01-10T05:00:00-05:00"
    )


@pytest.mark.parametrize("cookie", ["", "Nowhere%2FLand", "..%2F..%2Fetc%2Fpasswd"])
def test_without_a_known_browser_time_zone_the_sites_applies(
    client_as, recording_api, settings, cookie
):
    settings.TIME_ZONE = "Europe/Berlin"
    doc = {"id": 9, "updatedAt": "2026-01-10T10:00:00.000Z"}
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([doc]))
    client = client_as("salesops")
    client.cookies["tz"] = cookie
    html = client.get("/leads/?cols=updatedAt").content.decode()
    assert "<span>2026-01-10 11:00</span>" in html
    assert "Times in Europe/Berlin" in html


@live
def test_preview_against_the_sandbox(client_as, seeded_sandbox):
    query = (
        "c0=0&f0=reason&op0=in&v0=Test&v0=Duplicate&c1=0&f1=year&op1=greater_than&v1=2015"
        "&c2=1&f2=exterior&op2=all&v2=Red&v2=Blue"
    )
    where = where_from_filter(filter_from_querydict(QueryDict(query)))
    expected = get_client().count(where)
    assert 0 < expected < seeded_sandbox.count
    response = client_as("salesops").get("/leads/?" + query)
    html = response.content.decode()
    assert f"{expected} leads match" in html
    assert json.dumps(where, ensure_ascii=False) in html.replace("&quot;", '"')
    rows = re.findall(r'<a href="/leads/(\d+)/"', html)
    assert len(rows) == min(expected, 25)


@live
def test_sort_and_pages_against_the_sandbox(client_as, seeded_sandbox):
    client = client_as("salesops")
    html = client.get("/leads/?sort=-year&size=50&page=2&cols=name,year").content.decode()
    assert "200 leads match" in html
    assert "Page 2 of 4" in html
    assert (
        '<th scope="col" aria-sort="descending"><a href="?sort=year&amp;size=50&amp;cols=name,year"'
        in html
    )
    years = [int(y) for y in re.findall(r"<td[^>]*><span>(\d{4})</span></td>", html)]
    assert len(years) == 50
    assert years == sorted(years, reverse=True)
    expected = get_client().find(sort="-year", limit=50, page=2, select=["year"]).docs
    assert years == [doc["year"] for doc in expected]
    assert 'href="?sort=-year&amp;page=3&amp;size=50&amp;cols=name,year"' in html


@live
def test_a_page_past_the_end_shows_the_last_page(client_as, seeded_sandbox):
    client = client_as("salesops")
    html = client.get("/leads/?sort=year&page=99999").content.decode()
    assert "200 leads match" in html
    assert "There is no page 99999: this is the last page, 8." in html
    assert "Page 8 of 8" in html
    assert "No leads match" not in html
    assert html.count('aria-label="Select lead') == 200 - 7 * 25
    response = client.get("/leads/?sort=year&page=99999", HTTP_HX_TARGET="preview", **HX)
    assert response["HX-Push-Url"] == "/leads/?sort=year&page=8"  # the page shown


@live
def test_an_empty_result_says_so(client_as, seeded_sandbox):
    html = client_as("salesops").get("/leads/?" + one_condition("year", "equals", ["1800"]))
    assert "0 leads match" in html.content.decode()
    assert "No leads match this filter." in html.content.decode()


def test_the_bulk_edit_link_is_for_team_leads_only(client, make_user, recording_api):
    query = "c0=0&f0=reason&op0=equals&v0=Test"
    client.force_login(make_user("teamlead"))
    html = client.get(f"/leads/?{query}&sort=year").content.decode()
    assert f'href="/bulk/new?{query.replace("&", "&amp;")}"' in html
    client.force_login(make_user("salesops"))
    assert "Bulk edit" not in client.get(f"/leads/?{query}").content.decode()


# ---------------------------------------------------------------- where JSON


def test_a_pasted_where_loads_into_the_builder(client_as, recording_api):
    where = {"or": [{"reason": {"equals": "Test"}}, {"year": {"greater_than": 2020}}]}
    response = client_as("salesops").get(
        "/leads/where?" + urlencode({"where_json": json.dumps(where)})
    )
    assert response["Location"] == (
        "/leads/?c0=0&f0=reason&op0=equals&v0=Test&c1=1&f1=year&op1=greater_than&v1=2020"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "This is not valid JSON"),
        ('{"or": {"reason": {"equals": "Test"}}}', "“or” must hold a list"),
    ],
)
def test_an_unreadable_where_is_explained_and_nothing_is_lost(
    client_as, recording_api, text, message
):
    current = "c0=0&f0=reason&op0=equals&v0=Duplicate"
    query = urlencode({"where_json": text, "current": current})
    client = client_as("salesops")
    response = client.get("/leads/where?" + query)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert '<option value="Duplicate" selected>Duplicate</option>' in html
    assert "Load where JSON" in html
    through_htmx = client.get("/leads/where?" + query, **HX)
    assert through_htmx.status_code == 200  # htmx swaps only 2xx answers
    assert message in through_htmx.content.decode()
    assert json.dumps(text)[1:-1].replace('"', "&quot;").replace("\\", "") in html.replace("\\", "")


def test_a_pasted_where_with_a_bad_field_shows_the_condition_error(client_as, recording_api):
    where = {"nope": {"equals": 1}}
    response = client_as("salesops").get(
        "/leads/where?" + urlencode({"where_json": json.dumps(where)}), **HX
    )
    assert "There is no field “nope”" in response.content.decode()
    assert recording_api.requests == []


# ---------------------------------------------------------------- saved filters


def test_saved_filters_are_created_listed_loaded_and_deleted(client, make_user, recording_api):
    ann, bob = make_user("salesops", "ann"), make_user("salesops", "bob")
    client.force_login(ann)
    response = client.post(
        "/leads/saved/", {"name": "Tests", "query": "c3=0&f3=reason&v3=Test", "shared": "on"}
    )
    assert response.status_code == 302
    client.post("/leads/saved/", {"name": "Mine only", "query": "c0=0&f0=year&v0=2020"})
    shared = SavedFilter.objects.get(name="Tests")
    assert (shared.owner, shared.shared) == (ann, True)
    assert shared.query == "c0=0&f0=reason&op0=equals&v0=Test"

    html = client.get("/leads/").content.decode()
    assert '<a href="/leads/?c0=0&amp;f0=reason&amp;op0=equals&amp;v0=Test">Tests</a>' in html
    assert "Mine only" in html

    client.force_login(bob)
    html = client.get("/leads/").content.decode()
    assert ">Tests</a>" in html
    assert "by ann" in html
    assert "Mine only" not in html
    assert client.post(f"/leads/saved/{shared.pk}/delete").status_code == 404

    client.force_login(ann)
    assert client.post(f"/leads/saved/{shared.pk}/delete").status_code == 302
    assert not SavedFilter.objects.filter(pk=shared.pk).exists()


def test_saving_takes_the_filter_on_screen_when_htmx_sends_it(client_as, recording_api):
    """With htmx the save form includes the builder's fields, so a filter edited
    since the last preview is saved as shown, not as last rendered."""
    client = client_as("salesops")
    response = client.post(
        "/leads/saved/",
        {
            "name": "Edited",
            "query": "c0=0&f0=reason&v0=Test",
            "c0": "0",
            "f0": "year",
            "v0": "2020",
        },
        **HX,
    )
    saved = SavedFilter.objects.get(name="Edited")
    assert saved.query == "c0=0&f0=year&op0=equals&v0=2020"
    assert response["HX-Redirect"] == "/leads/?c0=0&f0=year&op0=equals&v0=2020"
    html = client.get("/leads/").content.decode()
    assert 'hx-include="#filter-form"' in html


def test_a_filter_without_a_name_is_not_saved(client_as, recording_api):
    client = client_as("salesops")
    response = client.post("/leads/saved/", {"name": "", "query": "c0=0"}, follow=True)
    assert "The filter was not saved" in response.content.decode()
    assert SavedFilter.objects.count() == 0


@live
def test_export_of_all_fields_keeps_the_tables_sort(client_as, seeded_sandbox):
    query = one_condition("year", "greater_than", ["2012"])
    response = client_as("salesops").get(f"/leads/export.csv?{query}&sort=-email&fields=all")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(rows[0]) == sorted(column.label for column in COLUMNS.values())
    assert rows[0][: len(DEFAULT_COLUMNS)] == [COLUMNS[key].label for key in DEFAULT_COLUMNS]
    emails = [row[rows[0].index("Email")] for row in rows[1:]]
    assert len(emails) > 100
    assert emails == sorted(emails, key=lambda email: email.encode(), reverse=True)
    # relations are read at depth 1: the sales rep by name and id, the rest by id
    rep = rows[1][rows[0].index("Sales rep")]
    assert re.fullmatch(r"\w+ \w+ \(#\d+\)", rep), rep
    assert re.fullmatch(r"#\d+", rows[1][rows[0].index("Customers")])


def test_the_export_links_offer_the_columns_shown_or_all_fields(client_as, recording_api):
    client = client_as("salesops")
    html = client.get("/leads/?sort=email").content.decode()
    assert "Export CSV of all 0 matching leads, in the table's order (by Email, ascending):" in html
    shown = 'href="/leads/export.csv?sort=email" hx-boost="false" aria-describedby="export-label"'
    assert f"{shown}>Columns shown</a>" in html
    assert 'href="/leads/export.csv?sort=email&amp;fields=all"' in html
    html = client.get("/leads/").content.decode()
    assert "Export CSV of all 0 matching leads, in the table's order (newest first):" in html


def test_the_export_label_says_whether_it_writes_the_selection(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200, json=empty_page([{"id": 3}], total=519)
    )
    client = client_as("salesops")
    html = client.get("/leads/?sel=3&sel=9").content.decode()
    assert "Export CSV of the 2 selected leads, in the table's order" in html
    assert 'href="/leads/export.csv?sel=3&amp;sel=9" hx-boost="false"' in html
    assert "Export CSV of the selected lead," in client.get("/leads/?sel=3").content.decode()
    html = client.get("/leads/?sel=all&sel=3").content.decode()
    assert "Export CSV of all 519 matching leads," in html


@live
def test_export_of_a_selection_writes_the_selected_leads_that_still_match(
    client_as, seeded_sandbox
):
    """Selected ids on two pages of the table and one the filter no longer
    matches: the file holds the matching ones, in the table's order."""
    client = client_as("salesops")
    query = one_condition("year", "greater_than", ["2012"]) + "&cols=id,city&sort=-city"
    shown = _preview_ids(client, query)
    chosen = [shown[30], shown[2], shown[-1]]
    outside = get_client().find({"year": {"less_than_equal": 2012}}, limit=1).docs[0]["id"]
    selection = "".join(f"&sel={lead_id}" for lead_id in [*chosen, outside])
    response = client.get(f"/leads/export.csv?{query}{selection}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["ID", "City"]
    assert [int(row[0]) for row in rows[1:]] == [shown[2], shown[30], shown[-1]]


# ---------------------------------------------------------------- columns


def test_chosen_columns_are_remembered_per_user(client, make_user, recording_api):
    ann = make_user("salesops", "ann")
    client.force_login(ann)
    client.get("/leads/?cols=email&cols=year&cols=name")
    assert ColumnPreference.objects.get(user=ann).columns == ["name", "email", "year"]
    client.get("/leads/")
    assert set(sent_query(recording_api.requests[-1])["select"]) == {
        "id",
        "firstName",
        "lastName",
        "email",
        "year",
    }
    client.force_login(make_user("salesops", "bob"))
    client.get("/leads/")
    assert "phone" in sent_query(recording_api.requests[-1])["select"]


def test_unknown_sort_and_columns_fall_back_to_defaults(client_as, recording_api):
    client_as("salesops").get("/leads/?sort=password&cols=secret&size=7&page=x")
    query = sent_query(recording_api.requests[0])
    assert query["sort"] == "-createdAt,-id"  # newest first, as without a sort
    assert query["limit"] == "25"
    assert query["page"] == "1"


# ---------------------------------------------------------------- detail


@live
def test_the_lead_detail_shows_every_field_by_group(client_as, seeded_sandbox):
    client = client_as("salesops")
    response = client.get("/leads/3/", **HX)
    html = response.content.decode()
    assert "<html" not in html
    for heading in ("Status", "Contact", "Vehicle wishes", "Consent &amp; notifications"):
        assert f"<h3>{heading}</h3>" in html
    assert html.count("<dt>") == 85
    # depth 1: the sales rep by name, its id beside it; customers has no
    # collection in the sandbox, so it stays an id, labelled as one
    assert re.search(
        r'<dt>Sales rep</dt>\s*<dd><span>\w+ \w+</span> <small class="muted">\(#\d+\)</small></dd>',
        html,
    )
    assert re.search(r"<dt>Customers</dt>\s*<dd><span>#\d+</span></dd>", html)
    assert ">Close details</button>" in html
    assert client.get("/leads/detail/closed", **HX).content == b""
    assert "<html" in client.get("/leads/3/").content.decode()
    assert client.get("/leads/99999/").status_code == 404


def test_the_lead_detail_names_the_lead_without_placeholders(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200, json={"id": 29, "firstName": None, "lastName": "Rodriguez", "exterior": ["Blue"]}
    )
    html = client_as("salesops").get("/leads/29/", **HX).content.decode()
    assert '<h2 id="lead-heading">Lead 29: Rodriguez</h2>' in html
    assert "None" not in html
    # The Close button takes the focus, so the keyboard can close the panel at once.
    assert re.search(r"<button[^>]*autofocus[^>]*>Close details</button>", html)


def test_the_lead_detail_names_related_documents_and_labels_bare_ids(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200,
        json={
            "id": 29,
            "salesRep": {"id": 12, "firstName": "Dana", "lastName": "Smith", "email": "d@x.com"},
            "customers": 40,
            "searches": [{"id": 1, "title": "SUVs"}, 2, {"id": 3, "email": "a@b.c"}, 4, 5],
        },
    )
    html = client_as("salesops").get("/leads/29/", **HX).content.decode()
    assert sent_query(recording_api.requests[0])["depth"] == "1"
    assert (
        "<dt>Sales rep</dt>\n      "
        '<dd><span>Dana Smith</span> <small class="muted">(#12)</small></dd>' in html
    )
    assert "<dt>Customers</dt>\n      <dd><span>#40</span></dd>" in html
    assert (
        '<dd title="SUVs (#1), #2, a@b.c (#3), #4, #5"><span class="tag">SUVs</span>'
        '<span class="tag">#2</span><span class="tag">a@b.c</span>'
        '<small class="muted">+2 more</small></dd>'
    ) in html


def test_relation_columns_show_names_with_ids_never_bare_numbers(client_as, recording_api):
    docs = [
        {"id": 7, "salesRep": {"id": 12, "name": "Dana Smith"}, "searches": [1, 2, 3, 4]},
        {"id": 8, "salesRep": 13, "searches": [{"id": 9}]},
    ]
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page(docs))
    html = client_as("salesops").get("/leads/?cols=name,salesRep,searches").content.decode()
    assert sent_query(recording_api.requests[0])["depth"] == "1"
    assert (
        '<td title="Dana Smith (#12)"><span>Dana Smith</span> '
        '<small class="muted cell-note">#12</small></td>'
    ) in html
    assert '<td title="#13"><span>#13</span></td>' in html
    assert (
        '<td title="#1, #2, #3, #4"><span class="tag">#1</span><span class="tag">#2</span>'
        '<span class="tag">#3</span><small class="muted">+1 more</small></td>'
    ) in html
    assert '<td title="#9"><span class="tag">#9</span></td>' in html


@pytest.mark.parametrize(
    ("related", "text"),
    [
        ({"id": 1, "name": "A", "title": "B", "email": "e@x"}, "A (#1)"),
        ({"id": 2, "name": " ", "title": "Trade-in", "fullName": "C"}, "Trade-in (#2)"),
        ({"id": 3, "fullName": "Dana Smith", "firstName": "D"}, "Dana Smith (#3)"),
        ({"id": 4, "firstName": "Dana", "lastName": None, "email": "d@x"}, "Dana (#4)"),
        ({"id": 5, "email": "d@x.com"}, "d@x.com (#5)"),
        ({"id": 6, "createdAt": "2024-01-01T00:00:00.000Z"}, "#6"),
        (7, "#7"),
    ],
)
def test_a_related_document_is_named_by_its_first_naming_field(related, text):
    assert related_text(related) == text


# ---------------------------------------------------------------- export


def test_the_preview_can_be_marked_out_of_date_and_cuts_long_values(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200,
        json=empty_page(
            [{"id": 7, "firstName": "Maximiliana", "processStatuses": ["Lost", "On Hold"]}]
        ),
    )
    html = client_as("salesops").get("/leads/").content.decode()
    assert 'aria-live="polite"' in html.split('class="match-count"')[1].split(">")[0]
    assert (
        '<p class="stale-note" id="stale-note" role="status" hidden>Out of date: press Preview</p>'
        in html
    )
    assert '<td title="Maximiliana">' in html
    assert '<td title="Lost, On Hold">' in html


@live
def test_export_streams_every_matching_lead_as_csv(client_as, seeded_sandbox, monkeypatch):
    monkeypatch.setattr("leadsadmin.leads.export.EXPORT_PAGE_SIZE", 40)
    query = one_condition("year", "greater_than", ["2012"])
    where = where_from_filter(filter_from_querydict(QueryDict(query)))
    expected = (
        get_client()
        .find(where, sort="-createdAt,-id", limit=1000, select=["id", "email", "year"])
        .docs
    )
    assert 100 < len(expected) < 200  # more than one page of the export
    response = client_as("salesops").get(f"/leads/export.csv?{query}&cols=name,email,year")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Name", "Email", "Year"]
    assert [(r[1], r[2]) for r in rows[1:]] == [
        (d["email"] or "", str(d["year"])) for d in expected
    ]
    assert "(empty)" not in {cell for row in rows for cell in row}


def _preview_ids(client, query: str) -> list[int]:
    """The lead ids the preview shows on every page, in order."""
    ids, page = [], 1
    while True:
        html = client.get(f"/leads/?{query}&page={page}").content.decode()
        found = [int(i) for i in re.findall(r'value="(\d+)" aria-label="Select lead', html)]
        ids += found
        if not found or f"page={page + 1}&amp;" not in html:
            return ids
        page += 1


@live
@pytest.mark.parametrize("sort", ["city", "-city", "year", "-year", ""])
def test_export_rows_come_in_the_previews_order(client_as, seeded_sandbox, monkeypatch, sort):
    """Text and number, ascending and descending, with ties and empty values, over
    several pages of the export (and two of the preview)."""
    monkeypatch.setattr("leadsadmin.leads.export.EXPORT_PAGE_SIZE", 30)
    client = client_as("salesops")
    query = f"cols=id,city,year&size=100&sort={sort}"
    response = client.get(f"/leads/export.csv?{query}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["ID", "Year", "City"]
    column = 2 if "city" in sort else 1
    values = [row[column] for row in rows[1:]]
    assert "" in values and len(set(values)) < len(values) / 3  # empty values and ties
    assert [int(row[0]) for row in rows[1:]] == _preview_ids(client, query)
    assert len(rows) - 1 == seeded_sandbox.count


def test_export_needs_the_export_permission(client_as, recording_api):
    assert client_as("auditor").get("/leads/export.csv").status_code == 403
    assert recording_api.requests == []


def test_export_refuses_an_invalid_filter_without_calling_the_api(client_as, recording_api):
    response = client_as("salesops").get("/leads/export.csv?" + one_condition("year", "in", ["x"]))
    assert response.status_code == 400
    assert recording_api.requests == []


def test_export_that_cannot_start_explains_why(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        403, json={"errors": [{"message": "You are not allowed to perform this action."}]}
    )
    response = client_as("salesops").get("/leads/export.csv")
    assert response.status_code == 502
    assert "The export could not start" in response.content.decode()


def test_export_guards_formulas_in_every_column_and_keeps_a_leading_tab(client_as, recording_api):
    doc = {"id": 1, "firstName": "\t=HYPERLINK(1)", "lastName": None, "email": "@x", "year": -3}
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([doc]))
    response = client_as("salesops").get("/leads/export.csv?cols=name,email,year")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1] == ["'\t=HYPERLINK(1)", "'@x", "-3"]


# ---------------------------------------------------------------- selection


def test_the_selection_lives_in_the_url_and_survives_sorting_and_paging(client_as, recording_api):
    docs = [{"id": lead_id, "firstName": f"Lead {lead_id}"} for lead_id in (3, 5)]
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page(docs, total=60))
    query = one_condition("reason", "equals", ["Test"])
    shown = query.replace("&", "&amp;")  # as the page's HTML writes it
    html = client_as("teamlead").get(f"/leads/?{query}&sel=9&sel=3&sel=x&sel=0").content.decode()
    assert "2 leads selected" in html
    assert 'id="sel-3" name="sel" value="3" aria-label="Select lead 3" checked>' in html
    assert 'id="sel-5" name="sel" value="5" aria-label="Select lead 5">' in html
    # lead 9 is on another page: the form keeps it as a hidden field
    assert '<input type="hidden" name="sel" value="9">' in html
    assert '<input type="hidden" name="sel" value="3">' not in html
    assert f'href="?{shown}&amp;sort=email&amp;sel=3&amp;sel=9"' in html  # the sort link
    assert f'href="?{shown}&amp;page=2&amp;sel=3&amp;sel=9"' in html  # the next page
    assert f'href="/bulk/new?{shown}&amp;ids=3,9"' in html
    assert ">Bulk edit selected<" in html
    assert ">Select all 60 matching<" in html


def test_selecting_all_matching_selects_the_filter(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(
        200, json=empty_page([{"id": 3}], total=60)
    )
    query = one_condition("reason", "equals", ["Test"])
    shown = query.replace("&", "&amp;")  # as the page's HTML writes it
    html = client_as("teamlead").get(f"/leads/?{query}&sel=all&sel=3").content.decode()
    assert "All 60 matching leads selected" in html
    assert 'aria-label="Select lead 3" checked disabled>' in html
    assert f'href="/bulk/new?{shown}"' in html
    assert f'href="?{shown}">Clear selection</a>' in html
    assert "Select all 60 matching" not in html


def test_no_selection_offers_no_bulk_edit_of_it(client_as, recording_api):
    recording_api.respond = lambda request: httpx.Response(200, json=empty_page([{"id": 3}]))
    html = client_as("teamlead").get("/leads/").content.decode()
    assert "0 leads selected" in html
    assert "Bulk edit selected" not in html
    assert "Clear selection" not in html
    html = client_as("salesops").get("/leads/?sel=3").content.decode()
    assert "1 lead selected" in html
    assert "Bulk edit selected" not in html  # sales ops do not bulk edit


def test_the_operators_are_plain_words_with_hints_where_needed(client_as, recording_api):
    client = client_as("salesops")
    html = client.get("/leads/condition/0?c0=0&f0=email&op0=not_contains", **HX).content.decode()
    assert '<option value="not_contains" selected>does not contain</option>' in html
    assert "leads with no value match too. Works while at most 400 leads contain it." in html
    assert "differs from" not in html
    html = client.get("/leads/condition/0?c0=0&f0=exterior&op0=all", **HX).content.decode()
    assert '<option value="all" selected>has all of</option>' in html
    assert "Every chosen item, in any order. Works while at most 400 leads have them all." in html
    html = client.get("/leads/condition/0?c0=0&f0=year&op0=empty&v0=2020", **HX).content.decode()
    assert '<option value="empty" selected>is empty</option>' in html
    assert 'disabled placeholder="no value needed"' in html
    assert 'name="v0"' not in html
