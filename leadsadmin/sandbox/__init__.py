"""The sandbox: a Payload-compatible leads API inside the project (`/sandbox/api/`).

It serves Payload 3's REST API for the `leads` collection (find, count, find by
id, bulk PATCH with a where, PATCH by id, POST + method override GET) from the
project's own database, and answers as a real Payload 3.90.2 server with the
SQLite adapter does, as `payload-observed.md` and the contract tests record it:
the same operators with the same null handling and coercions, per-element
semantics on multi-value fields, Payload's JavaScript arithmetic on odd paging
parameters, the same validation messages, error bodies and status codes.

Deliberate differences, where the recorded behaviour is an adapter bug:
- `all` (a 500 on the SQL adapters) is answered as the MongoDB adapter answers
  it: every listed element must be present (`all` of an empty list matches
  nothing).
- an `in` whose list is empty, or holds only values that are no numbers on a
  number field (a 500 on SQL: "NaN" in the query), matches nothing, as on MongoDB.
- relation lists are JSON columns in the reference server; here `exists` asks
  whether the stored list is null (as there), and the other operators work per
  element, like a hasMany relationship, each condition on its own (multi-value
  selects, by contrast, are joined once per where, as on the SQL adapter, so
  `exterior equals Red AND exterior equals Gold` matches nothing, as there).
- documents are never locked (no admin UI edits them), so no 423 / lock errors.

Layers: `querystring` (qs-esm parsing) → `where` (validation and ORM `Q`) →
`documents` (reading and writing values) → `operations` (one function per
endpoint, raising `PayloadError`) → `views`. `seed` and `loading` fill it.
"""
