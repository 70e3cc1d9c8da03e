"""Conditions Payload's SQL adapter cannot answer, resolved to lead ids.

Two operators the filter offers have no where of their own that Payload 3.90.2
(SQLite/PostgreSQL adapter) answers rightly (``tests/contract/``):

- "has all of" on a multi-value select: ``all`` fails with a 500, and an AND of
  ``equals`` on one list is answered with 0, because the adapter joins the list's
  item rows once per where, so every condition looks at the same item.
- "does not contain": there is no negated ``like``; ``not_like`` compares the
  whole text.

Both are answered here by asking the API through the one client for the ids of
the leads concerned; ``leads.filters`` then sends ``id in`` / ``id not_in`` them.
The conditions beside the resolved one in its AND group (``narrowing``) are sent
along, so only the leads the filter can still match are read.

Both are bounded. The ids travel in the where, which Payload's query parser
reads up to 1,000 parameters (the client sends at most 500 per where), so at most
``MAX_RESOLVED_IDS`` ids; and "has all of" reads at most ``MAX_CANDIDATES``
leads to check. Past a bound, ``TooManyToResolve`` says so in words for the
builder, at the condition.
"""

from __future__ import annotations

from leadsadmin.schema import LeadField

MAX_RESOLVED_IDS = 400  # leaves the where room for the rest of the filter
MAX_CANDIDATES = 5_000  # leads read to check "has all of", 500 per request
CANDIDATE_PAGE_SIZE = 500
_NARROW = "Add conditions beside this one, in the same group, to narrow it."


class TooManyToResolve(ValueError):
    """Too many leads to resolve the condition by id; str() says so for the builder."""


def ids_containing(client, lead_field: LeadField, text: str, narrowing: list[dict]) -> list[int]:
    """The ids of the leads (among those `narrowing` matches) whose field contains
    `text` (Payload's ``contains``: anywhere, ignoring capitals)."""
    where = _where_and([*narrowing, {lead_field.name: {"contains": text}}])
    result = client.find(where, sort="id", limit=MAX_RESOLVED_IDS + 1, select=["id"])
    if result.total_docs > MAX_RESOLVED_IDS:
        raise TooManyToResolve(
            f"{result.total_docs:,} leads contain “{text}”; “does not contain” can leave out "
            f"at most {MAX_RESOLVED_IDS:,}. {_NARROW}"
        )
    return [doc["id"] for doc in result.docs]


def ids_with_all(client, lead_field: LeadField, items: list, narrowing: list[dict]) -> list[int]:
    """The ids of the leads (among those `narrowing` matches) whose list holds every
    one of `items`: the leads holding the rarest item are read and checked here."""
    name = lead_field.name
    counts = {
        item: client.count(_where_and([*narrowing, {name: {"equals": item}}])) for item in items
    }
    rarest = min(items, key=counts.__getitem__)
    if counts[rarest] == 0:
        return []
    if counts[rarest] > MAX_CANDIDATES:
        raise TooManyToResolve(
            f"{counts[rarest]:,} leads have “{rarest}”; “has all of” can check at most "
            f"{MAX_CANDIDATES:,}. {_NARROW}"
        )
    wanted = set(items)
    candidates = client.iter_leads(
        _where_and([*narrowing, {name: {"equals": rarest}}]),
        page_size=CANDIDATE_PAGE_SIZE,
        select=[name],
    )
    ids = [lead["id"] for lead in candidates if wanted <= set(lead.get(name) or [])]
    if len(ids) > MAX_RESOLVED_IDS:
        raise TooManyToResolve(
            f"{len(ids):,} leads have all of these; “has all of” can find at most "
            f"{MAX_RESOLVED_IDS:,}. {_NARROW}"
        )
    return ids


def _where_and(parts: list[dict]) -> dict:
    return parts[0] if len(parts) == 1 else {"and": parts}
