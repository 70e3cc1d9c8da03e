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
- the key first: a request without a valid key is 403 before anything else of
  it is read (`views.sandbox_api`), so its body is never read. Payload reads the
  body, then the where, then checks the key: without a key it answers a broken
  JSON body, a PATCH without a where or a where it cannot parse with their 400
  (or 500), where the sandbox answers 403 ("key first" in the contract tests).
- relations: the reference server has no related collections (its relations are
  number and JSON fields, which `depth` leaves alone). Here `salesRep` has one:
  the sales reps `sandbox_seed` stores. A read with `depth` ≥ 1 (Payload's
  default is 2) turns a stored rep's id into its document, `{id, name, email,
  updatedAt, createdAt}`, as Payload populates a relationship; every other
  relation, and an id naming no stored rep, stays an id, as Payload leaves an
  id it cannot load.

Limits Payload does not have (`limits`), answered in Payload's error shape:
- a body over SANDBOX_MAX_BODY_BYTES (2 MiB) is 413, told by its Content-Length
  and never read, and JSON (a body or a `where=` parameter) nested over 32
  levels is 400, measured before it is parsed; without a valid key both are
  403, as every request without one is.
- a find's `limit` over SANDBOX_MAX_LIMIT (1000) is 400; `limit=0`,
  `pagination=false` and Payload's arithmetic on negative or non-numeric
  limits still read every match, as in Payload.
- number fields refuse values beyond 64 bits or infinite ("Please enter a valid
  number."; Payload stores 1e23, and infinity as null); text refuses NUL ("This
  field has an invalid input."; Payload's SQLite cuts the text there).
- where Payload fails with a 500 on numbers beyond 64 bits (a page's offset, a
  limit, an infinite id in a where), the sandbox answers 400.

Layers: `limits` (refusals of hostile input) → `querystring` (qs-esm parsing) →
`where` (validation and ORM `Q`) → `documents` (reading and writing values) →
`operations` (one function per endpoint, raising `PayloadError`) → `views`.
`seed` and `loading` fill it.
"""
