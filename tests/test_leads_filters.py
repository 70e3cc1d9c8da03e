import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.http import QueryDict
from django.utils import timezone

from leadsadmin.api import get_client
from leadsadmin.bulk.changes import Change
from leadsadmin.leads.builder import (
    builder_rows,
    condition_controls,
    condition_refit,
    operator_hint,
    operator_label,
)
from leadsadmin.leads.builder_actions import filter_apply_action
from leadsadmin.leads.filters import (
    Condition,
    FilterInvalid,
    fields_searched,
    filter_from_querydict,
    querystring_from_filter,
    where_from_filter,
)
from leadsadmin.leads.pasted_where import filter_from_where
from leadsadmin.schema import FIELDS, FILTER_OPERATORS_BY_TYPE, FieldType, lead_field

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def one(field, op, *values, tz=dt.UTC):
    query = QueryDict(mutable=True)
    query.update({"c0": "0", "f0": field, "op0": op})
    query.setlist("v0", list(values))
    tree = filter_from_querydict(query, tz)
    return tree


def where_of(field, op, *values, tz=dt.UTC):
    tree = one(field, op, *values, tz=tz)
    assert tree.is_valid, [c.error for c in tree.conditions()]
    return where_from_filter(tree, tz)


def only(where):
    """The single condition of a one-group, one-condition where."""
    assert list(where) == ["or"]
    assert len(where["or"]) == 1
    assert len(where["or"][0]["and"]) == 1
    return where["or"][0]["and"][0]


# One representative field per type, and what each operator sends.
CASES = {
    FieldType.TEXT: (
        "email",
        {
            "equals": (["a@x.com"], "a@x.com"),
            "not_equals": (["a@x.com"], "a@x.com"),
            "in": (["a@x.com, b@x.com"], ["a@x.com", "b@x.com"]),
            "not_in": (["a@x.com", "b@x.com"], ["a@x.com", "b@x.com"]),
            "empty": ([], False),
            "not_empty": (["ignored"], True),
            "like": (["gmail frank"], "gmail frank"),
            "contains": (["N.SMITH"], "N.SMITH"),
        },
    ),
    FieldType.NUMBER: (
        "year",
        {
            "equals": (["2020"], 2020),
            "not_equals": (["2020"], 2020),
            "in": (["2019,2020"], [2019, 2020]),
            "not_in": (["2019", "2020"], [2019, 2020]),
            "not_empty": ([], True),
            "empty": ([], False),
            "greater_than": (["2020"], 2020),
            "greater_than_equal": (["2020.5"], 2020.5),
            "less_than": (["-3"], -3),
            "less_than_equal": (["0"], 0),
        },
    ),
    FieldType.DATETIME: (
        "updatedAt",
        {
            "equals": (["2026-03-01T10:30"], "2026-03-01T10:30:00.000Z"),
            "not_equals": (["2026-03-01T10:30"], "2026-03-01T10:30:00.000Z"),
            "in": (
                ["2026-03-01T10:30, 2026-03-02 08:00"],
                ["2026-03-01T10:30:00.000Z", "2026-03-02T08:00:00.000Z"],
            ),
            "not_in": (["2026-03-01T10:30"], ["2026-03-01T10:30:00.000Z"]),
            "empty": ([], False),
            "not_empty": (["ignored"], True),
            "greater_than": (["2026-03-01T10:30"], "2026-03-01T10:30:00.000Z"),
            "greater_than_equal": (["2026-03-01T10:30:15"], "2026-03-01T10:30:15.000Z"),
            "less_than": (["2026-03-01"], "2026-03-01T00:00:00.000Z"),
            "less_than_equal": (["2026-03-01T10:30"], "2026-03-01T10:30:00.000Z"),
        },
    ),
    FieldType.ENUM: (
        "reason",
        {
            "equals": (["Test"], "Test"),
            "not_equals": (["Test"], "Test"),
            "in": (["Test", "Duplicate"], ["Test", "Duplicate"]),
            "not_in": (["Test"], ["Test"]),
            "empty": ([], False),
            "not_empty": (["ignored"], True),
        },
    ),
    FieldType.ENUM_LIST: (
        "exterior",
        {
            "equals": (["Red"], "Red"),
            "not_equals": (["Red"], "Red"),
            "in": (["Red", "Blue"], ["Red", "Blue"]),
            "not_in": (["Red", "Blue"], ["Red", "Blue"]),
            "not_empty": ([], True),
            "empty": ([], False),
        },
    ),
    FieldType.BOOLEAN: (
        "manual",
        {
            "equals": (["true"], True),
            "not_equals": (["false"], False),
            "empty": ([], False),
            "not_empty": (["ignored"], True),
        },
    ),
    FieldType.RELATION: (
        "salesRep",
        {
            "equals": (["7"], 7),
            "not_equals": (["7"], 7),
            "in": (["7, 8"], [7, 8]),
            "not_in": (["7"], [7]),
            "not_empty": ([], True),
            "empty": ([], False),
        },
    ),
}


RESOLVED = {"all", "not_contains"}  # sent as lead ids: see the sandbox tests below


def test_the_cases_cover_every_type_and_operator():
    for field_type, operators in FILTER_OPERATORS_BY_TYPE.items():
        if not operators:
            continue
        name, cases = CASES[field_type]
        assert lead_field(name).type is field_type
        assert set(cases) == set(operators) - RESOLVED, field_type


@pytest.mark.parametrize(
    ("name", "op", "values", "sent"),
    [
        (name, op, values, sent)
        for name, cases in CASES.values()
        for op, (values, sent) in cases.items()
    ],
)
def test_every_type_and_operator_produces_the_payload_condition(name, op, values, sent):
    sent_op = {"empty": "exists", "not_empty": "exists"}.get(op, op)
    assert only(where_of(name, op, *values)) == {name: {sent_op: sent}}


def test_all_with_one_value_is_plain_equals():
    assert only(where_of("exterior", "all", "Red")) == {"exterior": {"equals": "Red"}}


def test_date_times_are_read_in_the_users_time_zone_and_sent_in_utc():
    where = where_of("createdAt", "greater_than", "2026-07-01T12:00", tz=BERLIN)
    assert only(where) == {"createdAt": {"greater_than": "2026-07-01T10:00:00.000Z"}}


def test_missing_operator_means_the_fields_default():
    tree = one("reason", "", "Test")
    assert tree.conditions()[0].op == "equals"
    assert only(where_from_filter(tree)) == {"reason": {"equals": "Test"}}


def test_an_empty_filter_is_every_lead():
    assert where_from_filter(filter_from_querydict(QueryDict(""))) == {}


def test_rows_without_a_field_are_kept_but_send_nothing():
    tree = filter_from_querydict(QueryDict("c0=0&c1=0&f1=reason&v1=Test&c2=1"))
    assert len(tree.conditions()) == 3
    assert where_from_filter(tree) == {"or": [{"and": [{"reason": {"equals": "Test"}}]}]}


@pytest.mark.parametrize(
    ("field", "op", "values", "message"),
    [
        ("nope", "equals", ["x"], "There is no field “nope”"),
        ("reason", "like", ["x"], "“like” is not an operator for Reason"),
        ("manual", "in", ["true"], "“in” is not an operator for Entered manually"),
        ("exterior", "contains", ["Red"], "“contains” is not an operator for Exterior color"),
        ("reason", "equals", ["test"], "“test” is not an option of Reason"),
        ("exterior", "in", ["Red", "Pink"], "“Pink” is not an option of Exterior color"),
        ("year", "equals", ["abc"], "“abc” is not a number"),
        ("year", "in", ["2019, x"], "“x” is not a number"),
        ("year", "greater_than", ["nan"], "“nan” is not a number"),
        ("updatedAt", "less_than", ["yesterday"], "“yesterday” is not a date and time"),
        ("manual", "equals", ["maybe"], "“maybe” is not yes or no"),
        ("email", "equals", [], "Enter a value"),
        ("reason", "in", [], "Choose at least one value"),
        ("reason", "equals", ["Test", "Duplicate"], "takes one value"),
    ],
)
def test_invalid_input_is_an_error_at_the_condition(field, op, values, message):
    tree = one(field, op, *values)
    assert not tree.is_valid
    assert message in tree.conditions()[0].error
    with pytest.raises(FilterInvalid, match="condition 1"):
        where_from_filter(tree)


def test_an_error_keeps_what_was_typed():
    tree = one("year", "equals", "abc")
    assert tree.conditions()[0].values == ["abc"]
    assert "v0=abc" in querystring_from_filter(tree)


def test_a_bad_group_path_is_an_error_for_the_whole_filter():
    tree = filter_from_querydict(QueryDict("c0=0.0.0.0&f0=reason&v0=Test"))
    assert not tree.is_valid
    assert "nest at most 3 levels" in tree.errors[0]


TWO_GROUPS = (
    "c0=0&f0=reason&op0=in&v0=Test&v0=Duplicate"
    "&c1=0.0&f1=year&op1=greater_than&v1=2020"
    "&c2=0.0&f2=exterior&op2=in&v2=Red&v2=Blue"
    "&c3=0.0.0&f3=email&op3=like&v3=gmail+frank"
    "&c4=0.0.0&f4=manual&op4=equals&v4=true"
    "&c5=1&f5=createdAt&op5=less_than&v5=2026-01-01T10:00:00.000Z"
)


def test_the_query_string_round_trips():
    tree = filter_from_querydict(QueryDict(TWO_GROUPS))
    assert tree.is_valid
    assert querystring_from_filter(tree) == TWO_GROUPS


def test_numbering_is_made_canonical():
    messy = "c7=4&f7=reason&v7=Test&c3=9&f3=year&op3=equals&v3=1999&c12=4.2&f12=manual&v12=false"
    tree = filter_from_querydict(QueryDict(messy))
    assert querystring_from_filter(tree) == (
        "c0=0&f0=year&op0=equals&v0=1999"
        "&c1=1&f1=reason&op1=equals&v1=Test&c2=1.0&f2=manual&op2=equals&v2=false"
    )


def test_a_hand_written_link_may_leave_out_the_group():
    tree = filter_from_querydict(QueryDict("f0=reason&v0=Test&f1=year&op1=less_than&v1=2000"))
    assert querystring_from_filter(tree) == (
        "c0=0&f0=reason&op0=equals&v0=Test&c1=0&f1=year&op1=less_than&v1=2000"
    )


def test_other_parameters_are_ignored():
    tree = filter_from_querydict(QueryDict("c0=0&f0=reason&v0=Test&sort=-year&page=2&cols=email"))
    assert querystring_from_filter(tree) == "c0=0&f0=reason&op0=equals&v0=Test"


def test_nesting_alternates_and_or_and():
    where = where_from_filter(filter_from_querydict(QueryDict(TWO_GROUPS)))
    assert where == {
        "or": [
            {
                "and": [
                    {"reason": {"in": ["Test", "Duplicate"]}},
                    {
                        "or": [
                            {"year": {"greater_than": 2020}},
                            {"exterior": {"in": ["Red", "Blue"]}},
                            {
                                "and": [
                                    {"email": {"like": "gmail frank"}},
                                    {"manual": {"equals": True}},
                                ]
                            },
                        ]
                    },
                ]
            },
            {"and": [{"createdAt": {"less_than": "2026-01-01T10:00:00.000Z"}}]},
        ]
    }


def test_where_json_round_trips():
    tree = filter_from_querydict(QueryDict(TWO_GROUPS))
    where = where_from_filter(tree)
    back = filter_from_where(where)
    assert back.is_valid
    assert querystring_from_filter(back) == TWO_GROUPS
    assert where_from_filter(back) == where


@pytest.mark.parametrize(
    ("where", "query"),
    [
        ({"reason": {"equals": "Test"}}, "c0=0&f0=reason&op0=equals&v0=Test"),
        (
            {"reason": {"equals": "Test"}, "year": {"greater_than": 2020, "less_than": 2024}},
            "c0=0&f0=reason&op0=equals&v0=Test&c1=0&f1=year&op1=greater_than&v1=2020"
            "&c2=0&f2=year&op2=less_than&v2=2024",
        ),
        (
            {"or": [{"reason": {"equals": "Test"}}, {"year": {"greater_than": 2020}}]},
            "c0=0&f0=reason&op0=equals&v0=Test&c1=1&f1=year&op1=greater_than&v1=2020",
        ),
        (
            {"AND": [{"reason": {"in": "Test,Duplicate"}}]},
            "c0=0&f0=reason&op0=in&v0=Test&v0=Duplicate",
        ),
        ({"exterior": {"all": ["Red", "Blue"]}}, "c0=0&f0=exterior&op0=all&v0=Red&v0=Blue"),
        ({"manual": {"equals": "true"}}, "c0=0&f0=manual&op0=equals&v0=true"),
        (
            {"updatedAt": {"greater_than": "2026-03-01T10:30:00.000Z"}},
            "c0=0&f0=updatedAt&op0=greater_than&v0=2026-03-01T10:30:00.000Z",
        ),
        ({}, ""),
    ],
)
def test_pasted_wheres_load_as_filters(where, query):
    tree = filter_from_where(where)
    assert tree.is_valid
    assert querystring_from_filter(tree) == query


def test_pasted_where_dates_stay_utc_in_the_url_and_show_in_the_users_time_zone():
    tree = filter_from_where({"updatedAt": {"less_than": "2026-07-01T10:00:00.000Z"}}, tz=BERLIN)
    assert tree.conditions()[0].values == ["2026-07-01T10:00:00.000Z"]
    with timezone.override(BERLIN):
        controls = condition_controls(tree.conditions()[0], "0")
    assert controls.value_text == "2026-07-01T12:00"


def test_a_typed_date_time_goes_in_the_url_as_utc():
    """Typed in the user's zone; the URL holds UTC ISO 8601, so a shared link means
    the same moment wherever it is opened."""
    query = "c0=0&f0=createdAt&op0=less_than&v0=2026-01-01T10:00"
    tree = filter_from_querydict(QueryDict(query), tz=BERLIN)
    assert querystring_from_filter(tree) == (
        "c0=0&f0=createdAt&op0=less_than&v0=2026-01-01T09:00:00.000Z"
    )
    again = filter_from_querydict(QueryDict(querystring_from_filter(tree)), tz=NEW_YORK)
    assert where_from_filter(again) == where_from_filter(tree)


def test_pasted_where_is_validated_like_the_form():
    tree = filter_from_where({"or": [{"and": [{"nope": {"equals": 1}}, {"year": {"like": "x"}}]}]})
    errors = [c.error for c in tree.conditions()]
    assert "There is no field “nope”" in errors[0]
    assert "“like” is not an operator for Year" in errors[1]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ([1, 2], "must be a JSON object"),
        ({"or": {"reason": {"equals": "Test"}}}, "“or” must hold a list"),
        ({"reason": "Test"}, "must map operators to values"),
        ({"reason": {"equals": {"x": 1}}}, "must be a value or a list"),
        ({"reason": {"equals": None}}, "use “is empty” (exists false)"),
        (
            {
                "or": [
                    {
                        "and": [
                            {
                                "or": [
                                    {
                                        "and": [
                                            {"or": [{"a": {"equals": 1}}, {"b": {"equals": 2}}]},
                                            {"c": {"equals": 3}},
                                        ]
                                    },
                                    {"d": {"equals": 4}},
                                ]
                            },
                            {"e": {"equals": 5}},
                        ]
                    }
                ]
            },
            "deeper than 3 levels",
        ),
    ],
)
def test_unreadable_wheres_give_one_clear_message(where, message):
    tree = filter_from_where(where)
    assert not tree.is_valid
    assert message in tree.errors[0]
    assert tree.conditions() == []


def test_add_and_remove_actions():
    tree = filter_from_querydict(QueryDict("c0=0&f0=reason&v0=Test"))
    tree = filter_apply_action(tree, "add-group:")
    tree = filter_apply_action(tree, "add-condition:0")
    tree = filter_apply_action(tree, "add-group:0")
    assert querystring_from_filter(tree) == ("c0=0&f0=reason&op0=equals&v0=Test&c1=0&c2=0.0&c3=1")
    tree = filter_apply_action(tree, "remove:0")
    assert querystring_from_filter(tree) == "c0=0&c1=0.0&c2=1"
    tree = filter_apply_action(tree, "clear")
    assert querystring_from_filter(tree) == ""


def test_nesting_stops_at_three_levels():
    tree = filter_from_querydict(QueryDict("c0=0.0.0&f0=reason&v0=Test"))
    before = querystring_from_filter(tree)
    assert querystring_from_filter(filter_apply_action(tree, "add-group:0.0.0")) == before
    assert querystring_from_filter(filter_apply_action(tree, "add-group:0.0")) != before


def test_unknown_actions_change_nothing():
    tree = filter_from_querydict(QueryDict("c0=0&f0=reason&v0=Test"))
    for action in ("explode", "remove:x", "add-condition:7", "add-group:0.9"):
        assert querystring_from_filter(filter_apply_action(tree, action)) == (
            "c0=0&f0=reason&op0=equals&v0=Test"
        )


def test_operator_names_say_what_the_api_does():
    exterior, reason, email = lead_field("exterior"), lead_field("reason"), lead_field("email")
    assert operator_label(exterior, "in") == "has any of"
    assert operator_label(exterior, "not_in") == "has an item outside"
    assert operator_label(exterior, "equals") == "has"
    assert operator_label(exterior, "not_equals") == "has an item other than"
    assert operator_hint(exterior, "not_equals") == "Leads with an empty list match too."
    assert operator_hint(exterior, "not_in") == "Leads with an empty list are left out."
    assert operator_label(exterior, "all") == "has all of"
    assert "at most 400 leads have them all" in operator_hint(exterior, "all")
    assert operator_label(exterior, "empty") == "is empty"
    assert operator_label(email, "like") == "contains all the words"
    assert operator_label(email, "contains") == "contains"
    assert operator_label(email, "not_contains") == "does not contain"
    assert "leads with no value match too" in operator_hint(email, "not_contains")
    assert operator_label(reason, "not_equals") == "is not"
    assert operator_hint(reason, "not_equals") == "Leads with no value match too."
    assert operator_label(reason, "not_in") == "is none of"
    assert operator_hint(reason, "not_in") == "Leads with no value are left out."
    assert operator_label(reason, "not_empty") == "is not empty"
    assert operator_label(lead_field("updatedAt"), "less_than") == "is before"
    assert operator_label(lead_field("year"), "less_than") == "is less than"
    assert operator_hint(reason, "equals") == ""
    every_label = {operator_label(f, op) for f in FIELDS for op in f.filter_operators}
    assert "differs from" not in every_label and "is set" not in every_label
    assert not any("(" in label for label in every_label)


def test_relation_lists_cannot_be_filtered_and_say_so():
    assert lead_field("searches").filter_operators == ()
    assert "searches" not in fields_searched("Searches")
    tree = one("searches", "exists", "true")
    assert tree.conditions()[0].error == "Leads cannot be filtered by Searches."
    controls = condition_controls(tree.conditions()[0], "0")
    assert (controls.unknown_field, controls.operators) == ("searches", [])


def test_the_older_exists_reads_as_empty_or_not_empty():
    assert querystring_from_filter(one("email", "exists", "false")) == "c0=0&f0=email&op0=empty"
    assert querystring_from_filter(one("year", "exists", "yes")) == "c0=0&f0=year&op0=not_empty"
    assert one("year", "exists", "maybe").conditions()[0].error == "“maybe” is not yes or no."


@pytest.mark.parametrize(
    ("field", "op", "kind"),
    [
        ("reason", "equals", "select"),
        ("reason", "in", "checkboxes"),
        ("exterior", "equals", "select"),
        ("exterior", "all", "checkboxes"),
        ("exterior", "not_in", "checkboxes"),
        ("manual", "equals", "yesno"),
        ("email", "empty", "empty"),
        ("exterior", "not_empty", "empty"),
        ("year", "greater_than", "number"),
        ("year", "in", "text"),
        ("updatedAt", "less_than", "datetime"),
        ("email", "like", "text"),
    ],
)
def test_value_control_fits_type_and_operator(field, op, kind):
    assert condition_controls(Condition(field=field, op=op), "0").value_kind == kind


def test_operator_picker_lists_only_the_fields_operators():
    controls = condition_controls(Condition(field="manual"), "0")
    assert [(o.value, o.label) for o in controls.operators] == [
        ("equals", "is"),
        ("not_equals", "is not"),
        ("empty", "is empty"),
        ("not_empty", "is not empty"),
    ]


def test_changing_the_field_keeps_what_still_fits():
    kept = condition_refit(Condition(field="phone", op="like", values=["555"]))
    assert (kept.op, kept.values) == ("like", ["555"])
    reset = condition_refit(Condition(field="exterior", op="like", values=["Test"]))
    assert (reset.op, reset.values) == ("equals", [])
    narrowed = condition_refit(Condition(field="reason", op="equals", values=["Test", "Duplicate"]))
    assert narrowed.values == ["Test"]


def test_an_empty_filter_shows_one_blank_condition():
    rows = builder_rows(filter_from_querydict(QueryDict("")))
    assert [row.kind for row in rows] == ["open", "condition", "close"]


# ---------------------------------------------------------------- type-to-search


def test_the_search_box_finds_a_field_by_label_name_or_part():
    assert fields_searched("Exterior color") == ["exterior"]  # a datalist pick
    assert fields_searched("EXTERIOR") == ["exterior"]  # the name, any case
    assert fields_searched("terior co") == ["exterior", "interior"]
    assert fields_searched("no such thing") == []


def test_a_searched_field_replaces_the_picked_one():
    query = QueryDict("c0=0&f0=reason&find0=exterior+color&op0=in&v0=Red&v0=Blue")
    tree = filter_from_querydict(query)
    assert where_from_filter(tree) == {"or": [{"and": [{"exterior": {"in": ["Red", "Blue"]}}]}]}
    assert querystring_from_filter(tree) == "c0=0&f0=exterior&op0=in&v0=Red&v0=Blue"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("color", "“color” matches 2 fields (Exterior color, Interior color). Type more"),
        ("qqq", "No field matches “qqq”. Choose a field from the list."),
    ],
)
def test_a_search_that_names_no_single_field_is_an_error_and_kept(typed, message):
    tree = filter_from_querydict(QueryDict(f"c0=0&f0=reason&find0={typed}&v0=Test"))
    (condition,) = tree.conditions()
    assert condition.error.startswith(message)
    assert condition.search == typed
    assert condition.field == "reason"  # what was picked before stays
    assert not tree.is_valid
    refit = condition_refit(Condition(field="reason", search=typed))
    assert refit.error.startswith(message)  # the row fragment says it too


# ---------------------------------------------------------------- resolution (sandbox)

live = pytest.mark.django_db(transaction=True)


def every_lead(field):
    return list(get_client().iter_leads(page_size=500, select=[field]))


@live
def test_has_all_of_finds_the_leads_that_have_every_item(seeded_sandbox):
    tree = one("exterior", "all", "Red", "Blue")
    where = where_from_filter(tree)
    expected = sorted(
        lead["id"] for lead in every_lead("exterior") if {"Red", "Blue"} <= set(lead["exterior"])
    )
    assert expected
    assert only(where) == {"id": {"in": expected}}
    assert get_client().count(where) == len(expected)


@live
def test_does_not_contain_leaves_out_the_leads_that_contain_it(seeded_sandbox):
    where = where_from_filter(one("email", "not_contains", "GMAIL"))
    containing = [
        lead["id"] for lead in every_lead("email") if "gmail" in (lead["email"] or "").lower()
    ]
    assert 0 < len(containing) < seeded_sandbox.count
    assert only(where) == {"id": {"not_in": containing}}
    assert get_client().count(where) == seeded_sandbox.count - len(containing)


@live
def test_does_not_contain_what_no_lead_contains_is_every_lead(seeded_sandbox):
    where = where_from_filter(one("email", "not_contains", "no-such-text"))
    assert only(where) == {"id": {"exists": True}}
    assert get_client().count(where) == seeded_sandbox.count


@live
def test_past_the_bound_the_condition_says_so_and_no_where_is_built(seeded_sandbox, monkeypatch):
    found = len(only(where_from_filter(one("exterior", "all", "Red", "Blue")))["id"]["in"])
    assert found > 0
    monkeypatch.setattr("leadsadmin.leads.resolution.MAX_RESOLVED_IDS", found - 1)
    tree = one("exterior", "all", "Red", "Blue")
    with pytest.raises(FilterInvalid, match=f"“has all of” can find at most {found - 1}"):
        where_from_filter(tree)
    assert "Add conditions beside this one, in the same group" in tree.conditions()[0].error
    tree = one("email", "not_contains", "com")
    with pytest.raises(FilterInvalid, match="leads contain “com”; “does not contain” can leave"):
        where_from_filter(tree)


@live
def test_the_conditions_beside_it_narrow_what_is_read(seeded_sandbox, monkeypatch):
    """Only the leads the rest of the group lets through are read to check
    "has all of": within the bound beside a narrow condition, past it alone."""
    client = get_client()
    recent = {"year": {"greater_than": 2020}}
    read = min(client.count({**recent, "exterior": {"equals": c}}) for c in ("Red", "Blue"))
    alone = min(client.count({"exterior": {"equals": c}}) for c in ("Red", "Blue"))
    assert 0 < read < alone
    monkeypatch.setattr("leadsadmin.leads.resolution.MAX_CANDIDATES", read)
    query = "c0=0&f0=exterior&op0=all&v0=Red&v0=Blue&c1=0&f1=year&op1=greater_than&v1=2020"
    where = where_from_filter(filter_from_querydict(QueryDict(query)))
    expected = [
        lead["id"]
        for lead in client.iter_leads(recent, select=["exterior"])
        if {"Red", "Blue"} <= set(lead["exterior"])
    ]
    assert where["or"][0]["and"][0] == {"id": {"in": expected}}
    with pytest.raises(FilterInvalid, match=f"{alone} leads have .*can check at most {read}"):
        where_from_filter(one("exterior", "all", "Red", "Blue"))


def test_resolution_asks_the_api_once_per_tree(recording_api):
    tree = one("exterior", "all", "Red", "Blue")
    assert only(where_from_filter(tree)) == {"id": {"in": []}}  # no lead has Red (none at all)
    asked = len(recording_api.requests)
    assert asked == 2  # one count per item; the rarest has none, so nothing is read
    where_from_filter(tree)
    assert len(recording_api.requests) == asked


def test_an_api_failure_while_resolving_is_an_error_at_the_condition(recording_api):
    recording_api.respond = lambda request: httpx.Response(500, json={"errors": []})
    tree = one("email", "not_contains", "gmail")
    with pytest.raises(FilterInvalid, match="The leads API could not be asked which leads"):
        where_from_filter(tree)
    assert "HTTP 500" in tree.conditions()[0].error


def errors_of(query):
    return [c.error for c in filter_from_querydict(QueryDict(query)).conditions()]


SHARED = "Another condition on Exterior color is AND-ed with this one"


def test_conditions_and_ed_on_one_list_are_refused_as_payload_would_miscount_them():
    two_has = "c0=0&f0=exterior&v0=Red&c1=0&f1=exterior&v1=Blue"
    assert errors_of(two_has)[0] == ""
    assert errors_of(two_has)[1].startswith(SHARED)
    assert "(“has all of”)" in errors_of(two_has)[1]
    nested = "c0=0&f0=exterior&v0=Red&c1=0.0&f1=exterior&op1=in&v1=Blue&c2=0.0&f2=year&v2=2020"
    assert errors_of(nested)[1].startswith(SHARED)
    pasted = filter_from_where(
        {"and": [{"exterior": {"in": ["Red"]}}, {"exterior": {"not_equals": "Blue"}}]}
    )
    assert pasted.conditions()[1].error.startswith(SHARED)


@pytest.mark.parametrize(
    "query",
    [
        "c0=0&f0=exterior&v0=Red&c1=1&f1=exterior&v1=Blue",  # two OR-ed groups
        "c0=0.0&f0=exterior&v0=Red&c1=0.0&f1=exterior&v1=Blue",  # one nested OR group
        "c0=0&f0=exterior&v0=Red&c1=0&f1=exterior&op1=not_empty",
        "c0=0&f0=exterior&op0=all&v0=Red&v0=Gray&c1=0&f1=exterior&v1=Blue",  # ids
        "c0=0&f0=exterior&v0=Red&c1=0&f1=interior&v1=Red",
    ],
)
def test_conditions_on_one_list_that_each_get_their_own_item_are_fine(query):
    assert errors_of(query) == ["", ""]


@live
def test_bulk_pinning_takes_the_same_resolved_where(seeded_sandbox, prepare_operation):
    query = "c0=0&f0=exterior&op0=all&v0=Red&v0=Gray&c1=0&f1=notes&op1=not_contains&v1=trade"
    leads = get_client().iter_leads(select=["exterior", "notes"])
    expected = {
        lead["id"]
        for lead in leads
        if {"Red", "Gray"} <= set(lead["exterior"]) and "trade" not in (lead["notes"] or "").lower()
    }
    assert expected
    operation = prepare_operation(query, [Change("processStatuses", "replace", "Lost")])
    assert set(operation.pinned.values_list("lead_id", flat=True)) == expected
