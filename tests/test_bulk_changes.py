"""Requested changes → per-lead PATCH bodies, and validation against the schema."""

import pytest
from django.http import QueryDict

from leadsadmin.bulk.changes import (
    ADD,
    CLEAR,
    REMOVE,
    REPLACE,
    Change,
    ChangeInvalid,
    body_applied,
    body_for_lead,
    body_key,
    change_describe,
    change_validate,
)
from leadsadmin.bulk.forms import BulkChangeForm


def test_replace_sets_the_value_for_every_lead():
    changes = [Change("processStatuses", REPLACE, "Lost")]
    assert body_for_lead(changes, {"processStatuses": "On Hold"}) == {"processStatuses": "Lost"}
    assert body_for_lead(changes, {}) == {"processStatuses": "Lost"}


def test_clear_sends_null():
    assert body_for_lead([Change("reason", CLEAR)], {"reason": "Test"}) == {"reason": None}


def test_add_items_keeps_current_items_and_appends_missing_ones():
    changes = [Change("exterior", ADD, ["Red", "Blue"])]
    assert body_for_lead(changes, {"exterior": ["Blue", "Green"]}) == {
        "exterior": ["Blue", "Green", "Red"]
    }
    assert body_for_lead(changes, {"exterior": None}) == {"exterior": ["Red", "Blue"]}


def test_remove_items_drops_only_those_items():
    changes = [Change("exterior", REMOVE, ["Red"])]
    assert body_for_lead(changes, {"exterior": ["Red", "Blue"]}) == {"exterior": ["Blue"]}
    assert body_for_lead(changes, {"exterior": ["Red"]}) == {"exterior": []}
    assert body_for_lead(changes, {"exterior": []}) == {"exterior": []}


def test_leads_ending_with_the_same_list_share_one_body():
    changes = [Change("exterior", ADD, ["Red"]), Change("processStatuses", REPLACE, "Lost")]
    leads = [
        {"id": 1, "exterior": ["Blue"]},
        {"id": 2, "exterior": ["Blue", "Red"]},  # already has Red: ends like lead 1
        {"id": 3, "exterior": []},
        {"id": 4, "exterior": None},  # null and [] end the same
        {"id": 5, "exterior": ["Green"]},
    ]
    groups = {}  # as pinning groups them: body key → (body, ids)
    for lead in leads:
        body = body_for_lead(changes, lead)
        groups.setdefault(body_key(body), (body, []))[1].append(lead["id"])
    assert [ids for _, ids in groups.values()] == [[1, 2], [3, 4], [5]]
    bodies = [body for body, _ in groups.values()]
    assert bodies[0] == {"exterior": ["Blue", "Red"], "processStatuses": "Lost"}
    assert bodies[1] == {"exterior": ["Red"], "processStatuses": "Lost"}


def test_body_applied_recognises_a_lead_already_holding_the_body():
    body = {"exterior": ["Blue", "Red"], "processStatuses": "Lost"}
    assert body_applied(body, {"exterior": ["Red", "Blue"], "processStatuses": "Lost"})
    assert not body_applied(body, {"exterior": ["Red"], "processStatuses": "Lost"})
    assert not body_applied(body, {"exterior": ["Blue", "Red"], "processStatuses": "On Hold"})


@pytest.mark.parametrize(
    ("field", "mode", "raw", "expected"),
    [
        ("processStatuses", REPLACE, "Lost", "Lost"),
        ("year", REPLACE, "2019", 2019),
        ("monthlyPayment", REPLACE, "450.5", 450.5),
        ("manual", REPLACE, "true", True),
        ("manual", REPLACE, "false", False),
        ("notes", REPLACE, "  call back ", "call back"),
        ("exterior", REPLACE, ["Red", "Blue", "Red"], ["Blue", "Red"]),  # schema order, once
        ("exterior", REPLACE, [], []),
        ("calls", REPLACE, ["3, 5 3"], [3, 5]),
        ("salesRep", REPLACE, "12", 12),
        ("reason", CLEAR, "ignored", None),
    ],
)
def test_valid_values_are_normalised(field, mode, raw, expected):
    assert change_validate(field, mode, raw).value == expected


@pytest.mark.parametrize(
    ("field", "mode", "raw", "message"),
    [
        ("processStatuses", REPLACE, "lost", "not an option of Process status"),  # case matters
        ("processStatuses", REPLACE, "", "Enter a value for Process status"),
        ("exterior", REPLACE, ["Red", "Nope"], "Exterior color has no option 'Nope'"),
        ("exterior", ADD, [], "Choose at least one Exterior color item to add"),
        ("exterior", REMOVE, [], "item to remove"),
        ("year", REPLACE, "abc", "Year must be a number"),
        ("year", REPLACE, "inf", "finite"),
        ("manual", REPLACE, "yes please", "yes or no"),
        ("calls", REPLACE, ["3, x"], "whole numbers"),
        ("salesRep", REPLACE, "1 2", "exactly one id"),
        ("processStatuses", ADD, "Lost", "only be added to or removed from lists"),
        ("updatedAt", REPLACE, "2026-01-01", "not a field that can be bulk edited"),
        ("nope", REPLACE, "x", "not a field that can be bulk edited"),
        ("reason", "overwrite", "Test", "Choose how to change Reason"),
    ],
)
def test_invalid_values_are_refused_with_a_message(field, mode, raw, message):
    with pytest.raises(ChangeInvalid, match=message):
        change_validate(field, mode, raw)


def test_describe_says_what_happens():
    assert change_describe(Change("processStatuses", REPLACE, "Lost")) == "Lost"
    assert change_describe(Change("exterior", ADD, ["Red", "Blue"])) == "add Red, Blue"
    assert change_describe(Change("exterior", REMOVE, ["Red"])) == "remove Red"
    assert change_describe(Change("reason", CLEAR)) == "(cleared)"
    assert change_describe(Change("manual", REPLACE, False)) == "No"


def _form(query: str) -> BulkChangeForm:
    return BulkChangeForm(QueryDict(query))


def test_form_builds_changes_from_its_rows():
    form = _form(
        "fields=processStatuses&value-processStatuses=Lost"
        "&fields=exterior&mode-exterior=remove&value-exterior=Red&value-exterior=Blue"
        "&fields=reason&clear-reason=1&value-reason=Test"
        "&reason=Duplicate+leads"
    )
    assert form.is_valid()
    assert form.changes == [
        Change("processStatuses", REPLACE, "Lost"),
        Change("exterior", REMOVE, ["Blue", "Red"]),
        Change("reason", CLEAR, None),
    ]
    assert form.reason == "Duplicate leads"


def test_form_requires_a_reason_and_a_field_and_keeps_bad_input():
    form = _form("reason=")
    assert not form.is_valid()
    assert "Give a reason" in form.reason_form.errors["reason"][0]
    assert "Add at least one field" in form.form_error

    form = _form("fields=year&value-year=soon&reason=x")
    assert not form.is_valid()
    assert form.rows[0]["value"].value() == "soon"  # shown back as typed
    assert "must be a number" in form.rows[0].non_field_errors()[0]


def test_form_drops_unknown_and_repeated_fields():
    form = _form("fields=nope&fields=id&fields=year&fields=year&value-year=1&reason=r")
    assert [row.name for row in form.rows] == ["year"]


def test_form_adds_and_removes_rows():
    form = _form("fields=year&value-year=2020&reason=r")
    assert form.add_field("exterior").kind == "checkboxes"
    assert form.add_field("year") is None  # already there
    assert form.add_field("updatedAt") is None
    assert "Choose a field" in form.form_error
    form.remove_field("year")
    assert [row.name for row in form.rows] == ["exterior"]
    offered = {
        name for _, fields in form.picker().fields["add_field"].choices[1:] for name, _ in fields
    }
    assert "exterior" not in offered and "year" in offered and "updatedAt" not in offered
