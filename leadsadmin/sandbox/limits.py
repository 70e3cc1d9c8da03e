"""The limits the sandbox puts on hostile input where Payload has none, or where
Payload fails with a 500: the size of a body, the nesting of JSON, the range of
numbers, NUL characters in text. A request over a limit is refused with a 4xx in
Payload's error shape, `{"errors": [{"message": ...}]}`.

Query strings need no depth limit of their own: Payload's parser (see
`querystring`) reads at most 10 bracket levels, so a `where` from a query string
is always shallow.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate

from django.conf import settings

MAX_JSON_DEPTH = 32
# SQLite's and PostgreSQL's integers: a larger id, offset or limit cannot be bound.
INT64_MAX = 2**63 - 1


class Refused(Exception):
    """A request the sandbox turns away on purpose (see the module docstring)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(f"{status} {message}")

    def body(self) -> dict:
        return {"errors": [{"message": self.message}]}


def fits_int64(number: float) -> bool:
    """True for a finite number a 64-bit integer column can compare with."""
    return math.isfinite(number) and -INT64_MAX - 1 <= number <= INT64_MAX


def body_too_large(declared_length: int) -> Refused | None:
    """The refusal for a body larger than SANDBOX_MAX_BODY_BYTES, told by its
    Content-Length alone: such a body is never read."""
    limit = settings.SANDBOX_MAX_BODY_BYTES
    if declared_length <= limit:
        return None
    return Refused(413, f"The request body is larger than {limit} bytes.")


# Strings are removed before brackets are counted: a "[" inside one nests nothing.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """How deeply JSON text nests, counted without parsing it (Python's parser
    recurses, so deep enough text would exhaust the stack)."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def too_deep(raw: bytes) -> Refused | None:
    """The refusal for JSON nested deeper than MAX_JSON_DEPTH."""
    if json_depth(raw) <= MAX_JSON_DEPTH:
        return None
    return Refused(400, f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")


def check_limit(limit, *, most: int | None) -> None:
    """A numeric `limit` must be bindable, and (for a find) at most `most`, so a
    huge limit cannot read every lead at once. Negative and non-numeric limits
    are left to Payload's arithmetic (they are compared with the reference)."""
    if not isinstance(limit, float) or math.isnan(limit):
        return
    if not fits_int64(limit):
        raise Refused(400, "The limit is out of range.")
    if most is not None and limit > most:
        raise Refused(400, f"The limit must not be greater than {most}.")


def check_offset(offset: float) -> None:
    """The offset a page asks for must be bindable (Payload fails with a 500)."""
    if not math.isnan(offset) and not fits_int64(offset):
        raise Refused(400, "The page is out of range.")


def _js_integer(text: str) -> int | float:
    """An integer literal as JavaScript holds it once it is too long for 64 bits:
    a double (infinite past 1.8e308), never a Python int of any length."""
    return int(text) if len(text.lstrip("-")) <= 18 else float(text)


def parse_json(raw: bytes | str):
    """JSON.parse for text `too_deep` has passed; raises ValueError when invalid."""
    return json.loads(raw, parse_int=_js_integer)
