"""The sandbox's storage: one row per lead, one column per schema field.

The columns are generated from `leadsadmin.schema` (never listed here). Multi-value
fields (multi-value enums and relation lists) are stored twice: the ordered list in a
JSON column, for output, and one `LeadListValue` row per element, so that every
Payload operator on them is answered by SQL (`id IN (SELECT lead_id ...)`).
"""

from __future__ import annotations

import hashlib
import secrets

import orjson
from django.db import models
from django.db.models.expressions import Col

from leadsadmin.schema import FIELDS, FieldType

AUTH_COLLECTION = "users"


class ListColumn(models.JSONField):
    """A list field's JSON column, read with orjson: a page of 500 whole leads
    decodes 12,000 of them, and the standard library's decoder was about a
    quarter of the time such a read took (bench/bench_review.py). Django's own
    decoding stays for what orjson refuses and for key lookups."""

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and isinstance(expression, Col):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)


def _column(field) -> models.Field:
    match field.type:
        case FieldType.TEXT | FieldType.ENUM:
            return models.TextField(null=True, blank=True)
        case FieldType.NUMBER | FieldType.RELATION:
            # Payload number fields hold floats; whole numbers are written out as ints.
            return models.FloatField(null=True, blank=True)
        case FieldType.BOOLEAN:
            return models.BooleanField(null=True, blank=True)
        case FieldType.ENUM_LIST:
            return ListColumn(default=list, blank=True)
        case FieldType.RELATION_LIST:
            return ListColumn(null=True, blank=True)
        case FieldType.DATETIME:
            return models.DateTimeField()
    raise ValueError(f"no column type for {field.type}")


class Lead(models.Model):
    id = models.BigAutoField(primary_key=True)

    class Meta:
        indexes = [
            models.Index(fields=["-createdAt", "-id"], name="lead_created_desc"),
            models.Index(fields=["processStatuses"], name="lead_status"),
            models.Index(fields=["reason"], name="lead_reason"),
        ]

    def __str__(self):
        return f"Lead {self.pk}"


for _field in FIELDS:
    if _field.name != "id":
        Lead.add_to_class(_field.name, _column(_field))


class LeadListValue(models.Model):
    """One element of a lead's multi-value field (enum list or relation list)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="list_values")
    field = models.CharField(max_length=40)
    value = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["field", "value", "lead"], name="leadvalue_field_value"),
            models.Index(fields=["lead", "field"], name="leadvalue_lead_field"),
        ]

    def __str__(self):
        return f"{self.field}={self.value}"


class SalesRep(models.Model):
    """A document of the related collection behind a lead's `salesRep`: the one
    relation the sandbox can populate (`depth` ≥ 1). The other relations point
    at collections the sandbox does not hold, so they stay ids, as Payload leaves
    an id it cannot load."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    email = models.TextField()
    createdAt = models.DateTimeField()
    updatedAt = models.DateTimeField()

    def __str__(self):
        return self.name


def hash_key(plain: str) -> str:
    # The keys are long random strings, so a plain SHA-256 is enough to make the
    # stored value useless to whoever reads the table.
    return hashlib.sha256(plain.encode()).hexdigest()


class ApiKey(models.Model):
    """An API key for the sandbox. Only its hash is stored; the plain key is
    returned once, by `ApiKey.issue`."""

    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name or f"API key {self.pk}"

    @classmethod
    def issue(cls, name: str = "") -> tuple[ApiKey, str]:
        """Creates a key; returns it with the plain key (shown this once)."""
        plain = secrets.token_urlsafe(32)
        return cls.objects.create(name=name, key_hash=hash_key(plain)), plain

    @staticmethod
    def header_value(plain: str) -> str:
        """The full Authorization header value Payload expects for a key."""
        return f"{AUTH_COLLECTION} API-Key {plain}"

    @classmethod
    def is_valid(cls, plain: str) -> bool:
        return bool(plain) and cls.objects.filter(key_hash=hash_key(plain)).exists()
