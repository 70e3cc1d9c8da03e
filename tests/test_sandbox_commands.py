"""Seeding, loading and keys: the sandbox's commands and the functions behind them."""

import json

import pytest
from django.core.management import CommandError, call_command

from leadsadmin.sandbox.models import ApiKey, Lead, LeadListValue
from leadsadmin.sandbox.operations import leads_find
from leadsadmin.sandbox.seed import sandbox_seed
from leadsadmin.schema import FIELDS, FieldType


def _all(query=None) -> list[dict]:
    return leads_find({"limit": "0", **(query or {})}, authorized=True)["docs"]


def test_seeding_is_deterministic_and_numbers_leads_from_one(db):
    assert sandbox_seed(30, seed=7) == 30
    first = _all()
    Lead.objects.all().delete()
    sandbox_seed(30, seed=7)
    assert _all() == first
    assert sorted(doc["id"] for doc in first) == list(range(1, 31))


def test_another_seed_gives_other_leads_and_seeding_again_appends(db):
    sandbox_seed(10, seed=1)
    one = _all()
    sandbox_seed(5, seed=2)
    assert Lead.objects.count() == 15
    assert sorted(doc["id"] for doc in _all())[-5:] == list(range(11, 16))
    Lead.objects.all().delete()
    sandbox_seed(10, seed=2)
    assert _all() != one


def test_seeded_leads_cover_every_field_and_every_option(db):
    sandbox_seed(40, seed=0)
    docs = _all()
    for field in FIELDS:
        values = [doc[field.name] for doc in docs]
        assert any(v not in (None, []) for v in values), field.name
        if field.type == FieldType.ENUM:
            assert set(field.options) <= set(values), field.name
        if field.type == FieldType.ENUM_LIST:
            assert set(field.options) <= {v for lst in values for v in lst}, field.name
    assert any((doc["email"] or "").endswith("@gmail.com") for doc in docs)
    assert any(doc["notes"] is None for doc in docs)  # some fields empty, as in real data
    # the element rows agree with the stored lists
    rows = LeadListValue.objects.filter(field="exterior").count()
    assert rows == sum(len(doc["exterior"]) for doc in docs)


def test_sandbox_seed_command(db, capsys):
    call_command("sandbox_seed", "--count", "12", "--seed", "3")
    assert Lead.objects.count() == 12
    assert "Seeded 12 leads" in capsys.readouterr().out


@pytest.mark.parametrize("shape", ["find response", "plain list"])
def test_sandbox_load_reads_a_find_response_or_a_list(db, tmp_path, shape):
    docs = [
        {
            "id": 41,
            "firstName": "Zoë",
            "exterior": ["Red"],
            "favorites": None,
            "year": 2020,
            "createdAt": "2024-01-01T00:41:00.000Z",
            "updatedAt": "2024-02-01T00:00:00.123Z",
        },
        {"id": 7, "processStatuses": "Lost"},
    ]
    data = {"docs": docs, "totalDocs": 2} if shape == "find response" else docs
    path = tmp_path / "leads.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    call_command("sandbox_load", str(path))

    loaded = {doc["id"]: doc for doc in _all()}
    assert set(loaded) == {7, 41}
    assert loaded[41]["firstName"] == "Zoë"
    assert loaded[41]["updatedAt"] == "2024-02-01T00:00:00.123Z"
    assert loaded[7]["exterior"] == []
    assert [d["id"] for d in _all({"where": {"exterior": {"equals": "Red"}}})] == [41]


def test_sandbox_load_refuses_bad_files_and_loads_nothing(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"id": 1}, {"id": "x"}]', encoding="utf-8")
    with pytest.raises(CommandError, match="positive integer id"):
        call_command("sandbox_load", str(path))
    assert Lead.objects.count() == 0
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot load"):
        call_command("sandbox_load", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("sandbox_load", str(tmp_path / "missing.json"))


def test_sandbox_load_replace(db, tmp_path):
    sandbox_seed(3)
    path = tmp_path / "one.json"
    path.write_text('[{"id": 2, "notes": "only me"}]', encoding="utf-8")
    with pytest.raises(CommandError, match="already exist"):
        call_command("sandbox_load", str(path))
    call_command("sandbox_load", str(path), "--replace")
    assert [doc["notes"] for doc in _all()] == ["only me"]


def test_sandbox_key_prints_a_header_value_and_stores_only_a_hash(db, capsys):
    call_command("sandbox_key")
    header = capsys.readouterr().out.strip()
    assert header.startswith("users API-Key ")
    plain = header.removeprefix("users API-Key ")
    assert ApiKey.is_valid(plain)
    assert not ApiKey.objects.filter(key_hash=plain).exists()
    assert plain not in repr(ApiKey.objects.get())
