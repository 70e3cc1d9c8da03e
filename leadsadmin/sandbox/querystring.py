"""Query strings parsed exactly as Payload 3 parses them.

Payload hands `URL.search` to qs-esm 8 (`parse(qs, {allowEmptyArrays: true,
arrayLimit: 1000, depth: 10, ignoreQueryPrefix: true})`). This is a port of that
parser: `&` only, at most 1000 parameters, duplicates combine into lists, `+` is a
space, no comma splitting, no dot expansion, at most 10 bracket segments (the rest
stays one literal key), indexes above 1000 and lists longer than 1000 become
index-keyed objects, sparse lists are compacted. JavaScript objects keep their
integer-like keys first, in ascending order; so do the dicts returned here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

PARAMETER_LIMIT = 1000
ARRAY_LIMIT = 1000
DEPTH = 10

# Names an object inherits in JavaScript; qs drops keys that would shadow them.
_PROTOTYPE_NAMES = frozenset(
    {
        "constructor",
        "__proto__",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)
_BRACKETS = re.compile(r"\[[^[\]]*]")
_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")
_BAD_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")


class _Hole:
    """A missing element of a sparse JavaScript array."""

    def __repr__(self):
        return "<hole>"


HOLE = _Hole()


class _Overflow(dict):
    """An array that outgrew arrayLimit and became an index-keyed object."""

    max_index: int = -1


def parse_query_string(qs: str) -> dict:
    """Parses a raw query string (with or without the leading `?`) like Payload."""
    if not qs:
        return {}
    values = _parse_values(qs)
    result: object = {}
    for key, value in values.items():
        result = _merge(result, _parse_keys(key, value))
    _compact(result)
    return _js_ordered(result)


def _decode(text: str) -> str:
    text = text.replace("+", " ")
    # decodeURIComponent throws on a malformed escape; qs then keeps the raw text.
    if _BAD_PERCENT.search(text):
        return text
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return text


def _parse_values(qs: str) -> dict:
    values: dict = {}
    clean = qs[1:] if qs.startswith("?") else qs
    for part in clean.split("&")[:PARAMETER_LIMIT]:
        bracket_equals = part.find("]=")
        pos = part.find("=") if bracket_equals == -1 else bracket_equals + 1
        if pos == -1:
            key, value = _decode(part), ""
        else:
            key, value = _decode(part[:pos]), _decode(part[pos + 1 :])
        if key in values:
            values[key] = _combine(values[key], value)
        else:
            values[key] = value
    return values


def _concat(*items) -> list:
    out: list = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


def _combine(a, b):
    if isinstance(a, _Overflow):
        a.max_index += 1
        a[str(a.max_index)] = b
        return a
    result = _concat(a, b)
    if len(result) > ARRAY_LIMIT:
        overflow = _Overflow(_array_to_object(result))
        overflow.max_index = len(result) - 1
        return overflow
    return result


def _array_to_object(items: list) -> dict:
    return {str(i): item for i, item in enumerate(items) if item is not HOLE}


def _parse_keys(key: str, value):
    if not key:
        return None
    first = _BRACKETS.search(key)
    parent = key[: first.start()] if first else key
    chain = []
    if parent:
        if parent in _PROTOTYPE_NAMES:
            return None
        chain.append(parent)
    segment = None
    for count, match in enumerate(_BRACKETS.finditer(key)):
        segment = match
        if count >= DEPTH:
            break
        if match.group()[1:-1] in _PROTOTYPE_NAMES:
            return None
        chain.append(match.group())
        segment = None
    if segment is not None:
        chain.append("[" + key[segment.start() :] + "]")
    return _parse_object(chain, value)


def _parse_object(chain: list[str], value):
    leaf = value
    for root in reversed(chain):
        if root == "[]":
            if isinstance(leaf, _Overflow):
                obj = leaf
            elif leaf == "":
                obj = []
            else:
                obj = _combine([], leaf)
        else:
            clean = root[1:-1] if root.startswith("[") and root.endswith("]") else root
            if root != clean and _ARRAY_INDEX.match(clean) and int(clean) <= ARRAY_LIMIT:
                obj = [HOLE] * int(clean) + [leaf]
            elif clean != "__proto__":
                obj = {clean: leaf}
            else:
                obj = {}
        leaf = obj
    return leaf


def _is_object(value) -> bool:
    return isinstance(value, (dict, list))


def _merge(target, source):
    if source is None or source is HOLE or source == "":
        return target
    if not _is_object(source):
        if isinstance(target, list):
            target.append(source)
        elif isinstance(target, _Overflow):
            target.max_index += 1
            target[str(target.max_index)] = source
        elif isinstance(target, dict):
            if source not in _PROTOTYPE_NAMES:
                target[source] = True
        else:
            return [target, source]
        return target
    if not _is_object(target):
        if isinstance(source, _Overflow):
            shifted = _Overflow({"0": target})
            for key, item in source.items():
                shifted[str(int(key) + 1)] = item
            shifted.max_index = source.max_index + 1
            return shifted
        return _concat([target], source) if isinstance(source, list) else [target, source]
    if isinstance(target, list) and isinstance(source, list):
        for i, item in enumerate(source):
            if item is HOLE:
                continue
            if i < len(target) and target[i] is not HOLE:
                if _is_object(target[i]) and _is_object(item):
                    target[i] = _merge(target[i], item)
                else:
                    target.append(item)
            else:
                target.extend([HOLE] * (i + 1 - len(target)))
                target[i] = item
        return target
    merge_target = _array_to_object(target) if isinstance(target, list) else target
    source_items = _array_to_object(source).items() if isinstance(source, list) else source.items()
    for key, item in source_items:
        if key in merge_target:
            merge_target[key] = _merge(merge_target[key], item)
        else:
            merge_target[key] = item
    return merge_target


def _compact(value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                value[key] = [x for x in item if x is not HOLE]
            _compact(value[key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, list):
                value[i] = [x for x in item if x is not HOLE]
            _compact(value[i])


def _js_ordered(value):
    """Plain dicts and lists, with dict keys in JavaScript's own-key order."""
    if isinstance(value, dict):
        index_keys = sorted((k for k in value if _ARRAY_INDEX.match(k)), key=int)
        other_keys = [k for k in value if not _ARRAY_INDEX.match(k)]
        return {k: _js_ordered(value[k]) for k in index_keys + other_keys}
    if isinstance(value, list):
        return [_js_ordered(item) for item in value]
    return value
