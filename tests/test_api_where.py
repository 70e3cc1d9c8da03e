"""Where JSON → bracket query string: exact encoding, schema checks, limits."""

from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest

from leadsadmin.api.errors import WhereInvalid
from leadsadmin.api.where import (
    MAX_DEPTH,
    MAX_LIST_VALUES,
    MAX_WHERE_PARAMETERS,
    compile_where,
    encode_query,
    where_summary,
)
from leadsadmin.sandbox.querystring import parse_query_string
from leadsadmin.schema import FIELDS, FieldType


def where_query(where) -> str:
    """The where's part of the query string, as the client sends it."""
    return encode_query(compile_where(where).params)


def pairs(where):
    return list(compile_where(where).params)


def problems(where) -> list[str]:
    with pytest.raises(WhereInvalid) as caught:
        compile_where(where)
    return caught.value.problems


# --- exact encoding ---


def test_nested_or_and_is_the_bracket_form_payload_parses():
    where = {
        "or": [{"and": [{"reason": {"equals": "Test"}}, {"year": {"equals": 2020}}]}, {"a": 1}]
    }
    where["or"][1] = {"reason": {"equals": "Duplicate"}}
    assert where_query(where).startswith(
        "where%5Bor%5D%5B0%5D%5Band%5D%5B0%5D%5Breason%5D%5Bequals%5D=Test&"
    )
    assert pairs(where) == [
        ("where[or][0][and][0][reason][equals]", "Test"),
        ("where[or][0][and][1][year][equals]", "2020"),
        ("where[or][1][reason][equals]", "Duplicate"),
    ]


def test_a_where_too_deep_as_written_is_sent_compacted_when_that_fits():
    # Lone groups and groups inside groups of the same kind say nothing more; they
    # are dropped only when the where as written is deeper than the API reads.
    lone = {"or": [{"and": [{"or": [{"and": [{"reason": {"in": ["Test"]}}]}]}]}]}
    assert pairs(lone) == [("where[reason][in][0]", "Test")]
    same_kind = _beside("or", {"or": [_beside("and", {"and": [{"reason": {"in": ["T"]}}]})]})
    assert max(key.count("[") for key, _ in pairs(same_kind)) <= MAX_DEPTH
    shallow = {"or": [{"and": [{"reason": {"equals": "Test"}}]}]}
    assert pairs(shallow) == [("where[or][0][and][0][reason][equals]", "Test")]  # as written


def test_lists_are_indexed_arrays_so_commas_stay_inside_a_value():
    where = {"exterior": {"in": ["Red", "Blue, dark"]}}
    assert pairs(where) == [
        ("where[exterior][in][0]", "Red"),
        ("where[exterior][in][1]", "Blue, dark"),
    ]
    assert where_query(where).endswith("%5B1%5D=Blue%2C%20dark")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a+b@x.com", "a%2Bb%40x.com"),
        ('Tom & Jerry = "friends"? #1', "Tom%20%26%20Jerry%20%3D%20%22friends%22%3F%20%231"),
        ("Paid 50% down", "Paid%2050%25%20down"),
        ("small/compact", "small%2Fcompact"),
        ("[x]", "%5Bx%5D"),
        ("Zoë 🚗", "Zo%C3%AB%20%F0%9F%9A%97"),
        ("São Paulo", "S%C3%A3o%20Paulo"),
        ("<script>alert(1)</script>", "%3Cscript%3Ealert%281%29%3C%2Fscript%3E"),
        ("line\nbreak", "line%0Abreak"),
        ("", ""),
    ],
)
def test_values_are_percent_encoded(value, encoded):
    assert where_query({"notes": {"equals": value}}) == f"where%5Bnotes%5D%5Bequals%5D={encoded}"


def test_only_unreserved_characters_are_left_bare():
    query = where_query({"notes": {"equals": "".join(chr(c) for c in range(32, 127))}})
    value = query.split("=", 1)[1]
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
    assert unquote(value) == "".join(chr(c) for c in range(32, 127))


def test_booleans_numbers_and_dates_become_their_text():
    aware = datetime(2024, 1, 1, 2, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    where = {
        "manual": {"equals": True},
        "agree": {"not_equals": False},
        "notes": {"exists": False},
        "year": {"greater_than_equal": 2020},
        "monthlyPayment": {"less_than": 250.5},
        "updatedAt": {"less_than_equal": aware},
        "createdAt": {"greater_than": date(2024, 1, 1)},
    }
    assert dict(pairs(where)) == {
        "where[manual][equals]": "true",
        "where[agree][not_equals]": "false",
        "where[notes][exists]": "false",
        "where[year][greater_than_equal]": "2020",
        "where[monthlyPayment][less_than]": "250.5",
        "where[updatedAt][less_than_equal]": "2024-01-01T00:30:15.123Z",
        "where[createdAt][greater_than]": "2024-01-01",
    }


def test_several_operators_and_fields_keep_their_order_and_never_repeat_a_key():
    where = {
        "year": {"greater_than": 2010, "less_than": 2020},
        "reason": {"in": ["Test", "Duplicate"]},
        "or": [{"manual": {"equals": True}}, {"notes": {"exists": True}}],
    }
    keys = [key for key, _ in pairs(where)]
    assert keys == [
        "where[year][greater_than]",
        "where[year][less_than]",
        "where[reason][in][0]",
        "where[reason][in][1]",
        "where[or][0][manual][equals]",
        "where[or][1][notes][exists]",
    ]
    assert len(set(keys)) == len(keys)


def test_and_or_keys_are_case_insensitive_and_sent_lowercase():
    assert pairs({"OR": [{"reason": {"equals": "Test"}}, {"city": {"equals": "c"}}]}) == [
        ("where[or][0][reason][equals]", "Test"),
        ("where[or][1][city][equals]", "c"),
    ]


def _beside(combinator: str, node: dict) -> dict:
    """`node` in a group of two (a lone group would be unwrapped, costing no depth)."""
    return {combinator: [node, {"city": {"equals": "c"}}]}


def test_encode_query_joins_pairs_and_encodes_keys():
    assert encode_query([("select[email]", "true"), ("sort", "-year,id")]) == (
        "select%5Bemail%5D=true&sort=-year%2Cid"
    )


def test_id_is_a_field():
    assert pairs({"id": {"in": [1, 2]}}) == [("where[id][in][0]", "1"), ("where[id][in][1]", "2")]


# --- what a where means: nothing / everything ------------------------------------


@pytest.mark.parametrize("where", [None, {}, {"and": []}, {"or": []}, {"and": [{}, {}]}])
def test_an_empty_where_matches_every_lead_and_sends_nothing(where):
    compiled = compile_where(where)
    assert compiled.params == ()
    assert not compiled.matches_nothing


def test_an_or_branch_matching_everything_makes_the_or_match_everything():
    compiled = compile_where({"reason": {"equals": "Test"}, "or": [{}, {"year": {"equals": 1}}]})
    assert compiled.params == (("where[reason][equals]", "Test"),)


@pytest.mark.parametrize(
    "where",
    [
        {"id": {"in": []}},
        {"reason": {"equals": "Test"}, "id": {"in": []}},
        {"and": [{"reason": {"equals": "Test"}}, {"exterior": {"in": []}}]},
        {"or": [{"id": {"in": []}}, {"and": [{"exterior": {"in": []}}]}]},
    ],
)
def test_an_empty_in_list_matches_nothing_and_is_never_sent(where):
    compiled = compile_where(where)
    assert compiled.matches_nothing
    assert compiled.params == ()


def test_an_or_branch_with_an_empty_in_is_dropped_and_the_rest_renumbered():
    compiled = compile_where(
        {"or": [{"id": {"in": []}}, {"reason": {"equals": "Test"}}, {"year": {"equals": 2020}}]}
    )
    assert not compiled.matches_nothing
    assert compiled.params == (
        ("where[or][0][reason][equals]", "Test"),
        ("where[or][1][year][equals]", "2020"),
    )


@pytest.mark.parametrize("operator", ["not_in", "all"])
def test_an_empty_not_in_or_all_is_refused(operator):
    field = "exterior"
    [problem] = problems({field: {operator: []}})
    assert f"empty {operator}" in problem


# --- refused before sending ---


def test_every_problem_is_reported_at_once():
    found = problems(
        {
            "nope": {"equals": 1},
            "reason": {"like": "x"},
            "or": {"year": {"equals": 1}},
            "and": [{"email": {"bogus": "x"}}, {"year": {"equals": "abc"}}],
        }
    )
    assert len(found) == 5
    text = " | ".join(found)
    assert "unknown field 'nope'" in text
    assert "operator 'like' does not apply to enum fields" in text
    assert "'or' must hold a list" in text
    assert "and[0].email: operator 'bogus'" in text
    assert "and[1].year.equals: year is a number field; the value is not a number" in text


def test_the_error_message_names_the_problems():
    with pytest.raises(WhereInvalid) as caught:
        compile_where({"nope": {"equals": 1}})
    assert str(caught.value) == "The filter cannot be sent: nope: unknown field 'nope'."


@pytest.mark.parametrize(
    ("operator", "advice"),
    [("equals", "exists: false"), ("not_equals", "exists: true")],
)
def test_null_is_refused_with_the_portable_alternative(operator, advice):
    [problem] = problems({"reason": {operator: None}})
    assert "null" in problem
    assert advice in problem


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ({"reason": "Test"}, "give an operator"),
        ({"reason": {}}, "no operator"),
        ({"reason": {"in": "Test"}}, "takes a list"),
        ({"reason": {"equals": ["Test"]}}, "single value"),
        ({"notes": {"exists": "yes"}}, "true or false"),
        ({"manual": {"equals": "yes"}}, "true or false"),
        ({"updatedAt": {"less_than": datetime(2024, 1, 1)}}, "time zone"),
        ({"notes": {"equals": "\ud800"}}, "cannot be sent"),
        ({"year": {"equals": float("nan")}}, "cannot be sent"),
        ({"notes": {"equals": object()}}, "cannot send"),
        ({"id": {"in": [1, None]}}, "null"),
        ("reason", "mapping"),
        ({"or": ["x"]}, "mapping"),
        ({"searches": {"like": 1}}, "does not apply to relation_list fields"),
    ],
)
def test_bad_wheres_are_refused_with_a_reason(where, fragment):
    found = problems(where)
    assert any(fragment in problem for problem in found), found


def test_every_field_accepts_exactly_its_schema_operators():
    samples = {
        FieldType.TEXT: "x",
        FieldType.NUMBER: 1,
        FieldType.BOOLEAN: True,
        FieldType.DATETIME: datetime(2024, 1, 1, tzinfo=UTC),
        FieldType.ENUM: "x",
        FieldType.ENUM_LIST: "x",
        FieldType.RELATION: 1,
        FieldType.RELATION_LIST: 1,
    }
    for field in FIELDS:
        for operator in ("equals", "not_equals", "in", "not_in", "all", "exists", "like"):
            value = samples[field.type]
            operand = (
                True
                if operator == "exists"
                else [value]
                if operator in ("in", "not_in", "all")
                else value
            )
            where = {field.name: {operator: operand}}
            if operator in field.operators:
                assert compile_where(where).params, where
            else:
                with pytest.raises(WhereInvalid):
                    compile_where(where)


# --- limits ---


def test_depth_up_to_the_parsers_limit_is_sent_and_deeper_is_refused():
    # where[or][0][and][0][or][0][reason][in][0] = 9 segments; one more level = 11.
    ok = _beside("or", _beside("and", _beside("or", {"reason": {"in": ["Test"]}})))
    key = pairs(ok)[0][0]
    assert key.count("[") == 9 <= MAX_DEPTH
    too_deep = _beside(
        "or", _beside("and", _beside("or", _beside("and", ok["or"][0]["and"][0]["or"][0])))
    )
    assert any("nested too deeply" in p for p in problems(too_deep))


def test_a_list_longer_than_the_limit_is_refused():
    assert any(
        f"at most {MAX_LIST_VALUES}" in p
        for p in problems({"id": {"in": list(range(MAX_LIST_VALUES + 1))}})
    )


def test_too_many_parameters_in_total_are_refused():
    where = {"or": [{"id": {"in": list(range(400))}}, {"year": {"in": list(range(200))}}]}
    assert any(f"at most {MAX_WHERE_PARAMETERS}" in p for p in problems(where))


# --- summaries for logs ---


def test_the_summary_names_fields_and_operators_but_no_values():
    where = {
        "or": [
            {"and": [{"email": {"equals": "secret.person@example.com"}}, {"year": {"gte": 1}}]},
            {"notes": {"like": "private words"}},
        ]
    }
    summary = where_summary(where)
    assert summary == "or(and(email.equals, year.gte), notes.like)"
    assert "secret" not in summary
    assert compile_where({"email": {"in": ["a@b.c"]}}).summary == "email.in"


# --- round trips through the sandbox's port of Payload's parser ------------------------

ROUND_TRIPS = [
    {"reason": {"equals": "Test"}},
    {"or": [{"and": [{"reason": {"equals": "Test"}}, {"year": {"greater_than": 2020}}]}]},
    {
        "or": [
            {"and": [{"processStatuses": {"in": ["Lost", "On Hold"]}}]},
            {"and": [{"exterior": {"not_in": ["Red", "Blue"]}}, {"manual": {"equals": False}}]},
        ]
    },
    {"email": {"equals": "a+b@x.com"}, "notes": {"exists": False}},
    {"notes": {"in": ['Tom & Jerry = "friends"? #1', "Paid 50% down_payment, 1/2 rest \\ x"]}},
    {"suvStyle": {"in": ["small/compact", "large/full-size"]}},
    {"timeToPurchase": {"all": ["2+ months", "1-2 months"]}},
    {"firstName": {"like": "Zoë 🚗"}, "city": {"contains": "São Paulo"}},
    {"lastName": {"not_like": 'O\'Neil "Bob" <b>'}},
    {"notes": {"equals": "<script>alert(1)</script>"}},
    {"notes": {"equals": "a[b]c=d&e#f%g+h;i,j"}},
    {"notes": {"equals": "line\nbreak\ttab"}},
    {"trim": {"equals": "  padded  "}},
    {"notes": {"equals": ""}},
    {"conversation": {"equals": "null"}},
    {"id": {"in": list(range(1, 301))}},
    {"updatedAt": {"less_than_equal": datetime(2026, 1, 1, 12, 0, tzinfo=UTC)}},
    {"year": {"greater_than_equal": 2010, "less_than": 2020}, "monthlyPayment": {"equals": 2.5}},
    {"and": [{"or": [{"and": [{"or": [{"reason": {"equals": "Test"}}]}]}]}]},
]


def parsed(where):
    return parse_query_string(where_query(where))


@pytest.mark.parametrize("where", ROUND_TRIPS)
def test_the_parser_reads_back_exactly_the_where_sent(where):
    compiled = compile_where(where)
    assert parsed(where) == {"where": compiled.tree}


def test_the_tree_is_the_where_with_every_value_as_text():
    where = {
        "or": [{"manual": {"equals": True}}, {"id": {"in": [1, 2]}}],
        "updatedAt": {"less_than_equal": datetime(2026, 1, 1, tzinfo=UTC)},
    }
    assert compile_where(where).tree == {
        "or": [{"manual": {"equals": "true"}}, {"id": {"in": ["1", "2"]}}],
        "updatedAt": {"less_than_equal": "2026-01-01T00:00:00.000Z"},
    }
    assert parsed(where)["where"] == compile_where(where).tree


def test_a_value_with_commas_stays_one_list_element_after_parsing():
    assert parsed({"notes": {"in": ["a,b,c"]}}) == {"where": {"notes": {"in": ["a,b,c"]}}}


def test_the_deepest_where_we_send_is_within_the_parsers_depth():
    deepest = _beside(
        "or", _beside("and", _beside("or", _beside("and", {"reason": {"equals": "x"}})))
    )
    # where[or][0][and][0][or][0][and][0][reason][equals] = 10 segments
    assert parsed(deepest) == {"where": deepest}


def test_the_largest_list_we_send_survives_the_parsers_limits():
    where = {"id": {"in": list(range(MAX_LIST_VALUES))}}
    assert parsed(where)["where"]["id"]["in"] == [str(n) for n in range(MAX_LIST_VALUES)]
