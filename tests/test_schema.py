"""The schema against the API's own page, kept as docs/api/leads-api-patch.txt."""

import re
from pathlib import Path

import pytest

from leadsadmin import schema
from leadsadmin.schema import FieldType

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "api" / "leads-api-patch.txt"

# How the page writes each type, and what the schema may call it.
REFERENCE_TYPES = {
    "string": {FieldType.TEXT, FieldType.DATETIME},
    "string | null": {FieldType.TEXT},
    "number | null": {FieldType.NUMBER},
    "boolean | null": {FieldType.BOOLEAN},
    "enum<string> | null": {FieldType.ENUM},
    "enum<string>[] | null": {FieldType.ENUM_LIST},
    "relation list": {FieldType.RELATION_LIST},
    "relation": {FieldType.RELATION},
}


TYPE_LINE = re.compile(
    r"string|string \| null|number \| null|boolean \| null|enum<string> \| null"
    r"|enum<string>\[\] \| null|\(number \| .+ · object\)\[\] \| null"
)


def parse_reference_body(text: str) -> dict[str, dict]:
    """Field name → {"type", "required", "options"} from the page's Body section."""
    body = text.split("\nBody\n", 1)[1].split("\nResponse\n", 1)[0]
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    lines = lines[lines.index("application/json") + 1 :]
    fields: dict[str, dict] = {}
    current: dict = {}
    in_options = False
    for line in lines:
        if in_options:
            current["options"].append(line.removesuffix(","))
            in_options = line.endswith(",")
        elif line == "Available options:":
            in_options = True
        elif line == "required":
            current["required"] = True
        elif TYPE_LINE.fullmatch(line):
            current["type"] = "relation list" if line.startswith("(") else line
        else:
            # The page gives single relations no type line at all.
            current = {"type": "relation", "required": False, "options": []}
            fields[line] = current
    return fields


@pytest.fixture(scope="module")
def reference_fields():
    return parse_reference_body(REFERENCE.read_text())


def test_reference_parse_finds_all_84_body_fields(reference_fields):
    assert len(reference_fields) == 84
    assert reference_fields["processStatuses"]["options"][0] == "Qualified Lead"
    assert reference_fields["salesRep"]["type"] == "relation"


def test_schema_has_every_reference_field_and_id():
    names = [f.name for f in schema.FIELDS]
    assert len(names) == len(set(names)) == 85
    assert names[0] == "id"


def test_every_reference_field_matches_the_schema(reference_fields):
    for name, spec in reference_fields.items():
        assert name in schema.FIELDS_BY_NAME, f"{name} is missing from the schema"
        field = schema.FIELDS_BY_NAME[name]
        assert field.type in REFERENCE_TYPES[spec["type"]], (
            f"{name}: {field.type} vs {spec['type']}"
        )
        assert field.nullable == (not spec["required"]), name
        assert list(field.options) == spec["options"], f"{name}: options differ"


def test_schema_has_no_field_the_reference_lacks(reference_fields):
    extra = set(schema.FIELDS_BY_NAME) - set(reference_fields) - {"id"}
    assert extra == set()


def test_case_variants_are_distinct_options():
    options = schema.lead_field("timeToPurchase").options
    assert {"ASAP", "Asap", "asap"} <= set(options)
    assert len(options) == 19


def test_system_fields_are_not_bulk_editable():
    not_editable = {f.name for f in schema.FIELDS if not f.bulk_editable}
    assert not_editable == {"id", "createdAt", "updatedAt"}


def test_operators_follow_payloads_filter_builder_per_type():
    assert schema.lead_field("email").operators == (
        "equals",
        "not_equals",
        "in",
        "not_in",
        "exists",
        "like",
        "not_like",
        "contains",
    )
    assert "greater_than" in schema.lead_field("year").operators
    assert "like" not in schema.lead_field("year").operators
    assert schema.lead_field("manual").operators == ("equals", "not_equals", "exists")
    assert schema.lead_field("processStatuses").operators == (
        "equals",
        "not_equals",
        "in",
        "not_in",
        "exists",
    )
    assert "less_than" in schema.lead_field("updatedAt").operators
    for field in schema.FIELDS:
        assert set(field.operators) <= set(schema.PAYLOAD_OPERATORS), field.name


def test_every_field_has_a_label_and_a_group():
    for field in schema.FIELDS:
        assert field.label and field.label[0].isupper(), field.name
        assert field.group in schema.Group
    groups = {g for g, fields in schema.fields_by_group() if fields}
    assert groups == set(schema.Group)


def test_payload_label_matches_payloads_own_derivation():
    assert schema.lead_field("processStatuses").payload_label == "Process Statuses"
    assert schema.lead_field("exterior").payload_label == "Exterior"
    assert schema.lead_field("cfZipcode").payload_label == "Cf Zipcode"
