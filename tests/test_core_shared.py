"""The shared pieces every app uses: values, CSV, the time zone, pagination."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone

from leadsadmin.core.csv import csv_lines, csv_response
from leadsadmin.core.jsontext import CompactJSONEncoder, JSONTextField
from leadsadmin.core.middleware import UserTimeZoneMiddleware
from leadsadmin.core.values import display_datetime, iso_utc, parse_datetime, parse_number


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, 1e23, -0.0, None, True], "é": '\u2028 \x00 "quoted" </script>'},
        {"big": 10**30, "when": dt.datetime(2026, 12, 7, 4, 30, 0, 123456, tzinfo=dt.UTC)},
    ],
    ids=["what-orjson-writes", "what-django-writes"],
)
def test_compact_json_reads_back_as_the_standard_library_writes_it(value):
    text = json.dumps(value, cls=CompactJSONEncoder)
    standard = json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(text) == json.loads(standard)
    assert ", " not in text and ": " not in text


@pytest.mark.parametrize(
    "value",
    [{"exterior": ["Red", "Blau é"], "year": 2020, "big": 10**30}, [1.5, None], "text", None],
)
def test_json_text_field_keeps_json_as_text_and_reads_it_back(value):
    field = JSONTextField()
    stored = field.get_prep_value(value)
    assert stored is None if value is None else json.loads(stored) == value
    assert field.from_db_value(stored, None, None) == value


def test_json_text_field_reads_values_as_json_field_reads_them():
    # The audit chain hashes what it reads: a big integer must not come back a float.
    assert JSONTextField().from_db_value('{"big":1000000000000000000000000000001}', None, None) == {
        "big": 10**30 + 1
    }


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", 12), (" -3 ", -3), ("12.5", 12.5), ("12.0", 12.0), ("1e3", 1000.0), ("+4", 4)],
)
def test_parse_number(text, number):
    assert parse_number(text) == number
    assert type(parse_number(text)) is type(number)


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "-Infinity", "1,5"])
def test_parse_number_refuses_what_is_no_finite_number(text):
    with pytest.raises(ValueError, match="number"):
        parse_number(text)


def test_parse_datetime_reads_a_time_without_zone_in_the_given_or_active_zone():
    berlin = ZoneInfo("Europe/Berlin")
    assert iso_utc(parse_datetime("2026-05-01T09:30", berlin)) == "2026-05-01T07:30:00.000Z"
    with timezone.override(ZoneInfo("America/New_York")):
        assert iso_utc(parse_datetime("2026-05-01 09:30")) == "2026-05-01T13:30:00.000Z"
    assert iso_utc(parse_datetime("2026-05-01T09:30:00.5Z", berlin)) == "2026-05-01T09:30:00.500Z"
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        parse_datetime("yesterday")


def test_display_datetime_in_the_users_zone_and_unreadable_text_as_it_came():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert display_datetime("2026-01-01T08:00:00.000Z") == "2026-01-01 09:00"
        assert display_datetime(dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)) == "2026-01-01 09:00"
    assert display_datetime("not a date") == "not a date"
    assert display_datetime(None) == ""


def test_every_formula_leading_text_cell_is_escaped_and_numbers_are_not():
    hostile = ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1", "plain", -5, 2.5]
    lines = list(csv_lines(["=Name", "x"], [hostile]))
    assert lines[0] == "'=Name,x\r\n"
    assert lines[1] == ("'=HYPERLINK(1),'+1+1,'-2+3,'@SUM(1),'\t=1+1,\"'\r=1\",plain,-5,2.5\r\n")


def test_csv_response_streams_an_attachment():
    response = csv_response(csv_lines(["a"], [["b"]]), "x.csv")
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert b"".join(response.streaming_content) == b"a\r\nb\r\n"


def test_the_time_zone_middleware_activates_the_browsers_zone_for_the_request():
    seen = []
    middleware = UserTimeZoneMiddleware(lambda _: seen.append(timezone.get_current_timezone()))
    request = RequestFactory().get("/")
    request.COOKIES["tz"] = "Asia%2FTokyo"
    middleware(request)
    request.COOKIES["tz"] = "Not/AZone"
    middleware(request)
    assert seen == [ZoneInfo("Asia/Tokyo"), timezone.get_default_timezone()]


def test_the_pagination_partial_keeps_the_query_and_sets_the_page():
    template = engines["django"].from_string(
        "{% load leadsadmin %}{% pagination page.number 3 label='Audit pages' %}"
    )
    request = RequestFactory().get("/audit/", {"user": "ann", "page": "2"})
    html = template.render({"page": {"number": 2}}, request)
    assert 'aria-label="Audit pages"' in html
    assert 'href="?user=ann&amp;page=1" rel="prev"' in html
    assert 'href="?user=ann&amp;page=3" rel="next"' in html
    assert "Page 2 of 3" in html
    single = template.render({"page": {"number": 1}}, RequestFactory().get("/"))
    assert "Previous" not in single


def test_one_page_shows_no_pagination():
    template = engines["django"].from_string("{% load leadsadmin %}{% pagination 1 1 %}")
    assert template.render({}, RequestFactory().get("/")).strip() == ""
