"""The contract server's Lead fields (tests/contract/payload/leads-fields.json) against
leadsadmin.schema. Needs no node: it runs everywhere, so a stale file shows at once."""

import json

import pytest
from django.core.management import CommandError, call_command

from leadsadmin.sandbox.payload_fields import CONTRACT_FIELDS_FILE


def test_the_committed_fields_file_is_what_the_schema_gives():
    call_command("payload_contract_config", "--check")


def test_check_fails_on_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "leads-fields.json"
    stale.write_text("[]\n")
    monkeypatch.setattr(
        "leadsadmin.sandbox.management.commands.payload_contract_config.CONTRACT_FIELDS_FILE",
        stale,
    )
    with pytest.raises(CommandError, match=r"leads-fields\.json is stale"):
        call_command("payload_contract_config", "--check")


def test_fields_by_payload_type_are_those_the_seed_data_was_made_for():
    fields = json.loads(CONTRACT_FIELDS_FILE.read_text())
    by_type: dict[str, int] = {}
    for field in fields:
        kind = field["type"] + (" hasMany" if field.get("hasMany") else "")
        by_type[kind] = by_type.get(kind, 0) + 1
    # 10 number columns: 7 numbers and the 3 single relations (an id each).
    assert by_type == {
        "select": 2,
        "text": 36,
        "number": 10,
        "checkbox": 10,
        "select hasMany": 15,
        "json": 9,
    }
    assert {"id", "createdAt", "updatedAt"}.isdisjoint(field["name"] for field in fields)
