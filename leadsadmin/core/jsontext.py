"""JSON text written fast: the one encoder for large JSON the project writes, and
the model field that keeps such JSON as text."""

from __future__ import annotations

import json

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

_LEFT_TO_DJANGO = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class CompactJSONEncoder(DjangoJSONEncoder):
    """No spaces after separators, non-ASCII as is, encoded with orjson: for the
    snapshots a review stores and the sandbox's answers, where the standard
    library's encoder was a large part of the time (bench/bench_review.py).
    What orjson refuses (integers beyond 64 bits), and whatever Django writes its
    own way (dates and times, subclasses of str, int, dict and list, dataclasses),
    is encoded by Django's encoder instead, with the same separators."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "separators": (",", ":"), "ensure_ascii": False})

    def encode(self, o) -> str:
        try:
            return orjson.dumps(o, option=_LEFT_TO_DJANGO).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            return super().encode(o)


class JSONTextField(models.TextField):
    """JSON kept as plain text, for documents that are only ever read back whole and
    never queried by key. A JSONField is jsonb on PostgreSQL, which the server parses
    on every write: a review's 10,000 lead snapshots (20 MB) took 0.60 s to COPY into
    jsonb and 0.12 s into text compressed with lz4 (see bulk migration 0008).
    Written with CompactJSONEncoder; read with the standard library, as JSONField
    reads, so that a value reads back the same after a move from JSONField (the
    audit chain hashes what it reads)."""

    def get_prep_value(self, value):
        return None if value is None else CompactJSONEncoder().encode(value)

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        # What a serializer wrote (value_to_string) comes back as text.
        return json.loads(value) if isinstance(value, str) else value

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
