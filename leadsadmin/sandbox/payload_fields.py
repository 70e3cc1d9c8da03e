"""The `leads` collection's fields as a Payload config, derived from leadsadmin.schema.

The contract server (tests/contract/payload/) is a real Payload 3.90.2 configured with
these fields, so the sandbox and the client are checked against the same schema the
rest of the project reads. It models relations as that server has always done: one id
as a number column, a list of ids as a JSON column.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from leadsadmin.schema import FIELDS, FieldType

CONTRACT_FIELDS_FILE = (
    Path(settings.BASE_DIR) / "tests" / "contract" / "payload" / "leads-fields.json"
)

# Payload adds these to every collection itself.
PAYLOAD_OWN_FIELDS = frozenset({"id", "createdAt", "updatedAt"})

PAYLOAD_TYPES = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "checkbox",
    FieldType.DATETIME: "date",
    FieldType.ENUM: "select",
    FieldType.ENUM_LIST: "select",
    FieldType.RELATION: "number",
    FieldType.RELATION_LIST: "json",
}


def payload_lead_fields() -> list[dict]:
    """One Payload field config per Lead field, in schema order."""
    configs = []
    for field in FIELDS:
        if field.name in PAYLOAD_OWN_FIELDS:
            continue
        config: dict = {"name": field.name, "type": PAYLOAD_TYPES[field.type]}
        if field.type == FieldType.ENUM_LIST:
            config["hasMany"] = True
        if field.options:
            config["options"] = list(field.options)
        configs.append(config)
    return configs


def payload_lead_fields_json() -> str:
    """The text of CONTRACT_FIELDS_FILE."""
    return json.dumps(payload_lead_fields(), indent=2, ensure_ascii=False) + "\n"
