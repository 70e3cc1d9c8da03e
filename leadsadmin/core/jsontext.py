"""JSON text written fast: the one encoder for large JSON the project writes."""

from __future__ import annotations

import orjson
from django.core.serializers.json import DjangoJSONEncoder

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
