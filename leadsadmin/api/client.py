"""LeadsClient: the one place that speaks HTTP to the leads API (Payload's REST API
for the ``leads`` collection, or the project's sandbox of it).

One ``httpx.Client`` per LeadsClient (connection pooling, keep-alive, explicit
timeouts); httpx clients are safe to share between threads, and LeadsClient keeps
no per-call state, so one instance serves runserver threads and the task worker.

Retries: reads (GET, and POST-as-GET) retry with jittered exponential backoff on
connection failures (refused, DNS, connect timeout, a dropped keep-alive
connection), 502, 503 and 504. Writes retry only when the request provably never
reached the server (connect error, connect timeout, no free connection in the
pool), or on a 429 (the API did not process it); never after a read timeout or
a 5xx, since Payload may have written by then. A 429 is retried for reads and
writes after its ``Retry-After`` (seconds or an HTTP date), all waits of one call
together at most ``max_retry_after`` seconds, and pauses every caller sharing
the limiter until then.

Limits: every attempt takes its turn from an ApiLimiter (api/limits.py): the
shared maximum of concurrent requests and requests per second, and the pause
after a 429. ``get_client()`` gives it the settings' limits in Django's cache.

Logging: one INFO line per HTTP attempt on ``leadsadmin.api`` with method, path,
a where summary of fields and operators (never values: they may be personal
data), status, duration and attempt number. Never the key, never lead contents.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import orjson

from leadsadmin.api.errors import (
    ApiUnauthorized,
    ApiUnreachable,
    DataInvalid,
    LeadsApiError,
    NotFound,
    ProtocolError,
    QueryRefused,
    RateLimited,
    ServerError,
    ValidationFailed,
    WhereInvalid,
)
from leadsadmin.api.limits import ApiLimiter
from leadsadmin.api.where import CompiledWhere, compile_where, encode_query
from leadsadmin.core.values import iso_utc
from leadsadmin.schema import FIELDS_BY_NAME

logger = logging.getLogger("leadsadmin.api")
# httpx logs every request's full URL at INFO, where values included (values may be
# personal data). Our own line says what is needed; keep httpx's quiet unless the
# logging configuration asks for it explicitly.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

# A GET URL longer than this goes as POST + X-Payload-HTTP-Method-Override: GET
# (proxies and Node's 16 KB header limit answer 414/431 well before 8 KB URLs).
MAX_GET_URL_BYTES = 2000
# A PATCH cannot be overridden: its where must travel in the URL. Keep it far
# below Node's 16 KB limit for the request line plus headers.
MAX_PATCH_URL_BYTES = 8000
MAX_IDS_PER_REQUEST = 300
MAX_PAGE_SIZE = 500
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"  # exactly: a charset defeats it
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAX_SERVER_MESSAGE = 300


@dataclass(slots=True, frozen=True)
class FindResult:
    docs: list[dict]
    total_docs: int
    limit: int
    total_pages: int
    page: int
    paging_counter: int
    has_prev_page: bool
    has_next_page: bool
    prev_page: int | None
    next_page: int | None


@dataclass(slots=True, frozen=True)
class UpdateError:
    """One lead the API could not update. ``id`` is None when the API sent a bare
    string that names no lead."""

    id: int | str | None
    message: str


@dataclass(slots=True, frozen=True)
class UpdateResult:
    """A bulk PATCH's answer. A 400 carrying ``docs`` and ``errors`` lands here too:
    Payload saved the leads in ``docs`` even though others failed."""

    docs: list[dict]
    errors: list[UpdateError]
    message: str
    status: int

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True, frozen=True)
class ChunkResult:
    """One request of ``update_ids``. ``conflicts``: requested ids that came back
    neither updated nor failed, i.e. the where (``updatedAt`` ≤ ``unchanged_since``)
    left them alone because they changed after that moment, or they no longer exist."""

    ids: list[int]
    docs: list[dict]
    errors: list[UpdateError]
    conflicts: list[int]
    message: str
    status: int

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflicts


class LeadsClient:
    def __init__(
        self,
        base_url: str,
        authorization: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        *,
        max_attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
        max_retry_after: float = 60.0,
        sleep=time.sleep,
        clock=time.time,
        limiter: ApiLimiter | None = None,
        locale: str | None = None,
        fallback_locale: str | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self._authorization = authorization or ""
        self._secrets = _secrets_of(self._authorization)
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        # None: a limiter of this client's own, without limits (it still keeps
        # the pause a 429 asks for).
        self._limiter = limiter or ApiLimiter(clock=clock, sleep=sleep)
        self._locale_params = [
            (name, value)
            for name, value in (("locale", locale), ("fallback-locale", fallback_locale))
            if value
        ]
        self._count_route_missing = False
        headers = {"Accept": "application/json", "User-Agent": "leadsadmin"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"LeadsClient(base_url={_without_userinfo(self.base_url)!r}, timeout={self.timeout})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- reads ----------------------------------------------------------------

    def find(
        self,
        where: dict | None = None,
        sort: str | Iterable[str] | None = None,
        limit: int = 10,
        page: int = 1,
        depth: int = 0,
        select: Iterable[str] | None = None,
    ) -> FindResult:
        """One page of leads matching ``where``."""
        compiled = compile_where(where)
        if compiled.matches_nothing:  # e.g. {"id": {"in": []}}, even with limit=len([])
            return _empty_page(limit)
        params = self._read_params(sort=sort, limit=limit, page=page, depth=depth, select=select)
        status, body, retry_after = self._read("/leads", [*compiled.params, *params], compiled)
        if status != 200:
            self._raise_for(status, body, retry_after, what="the leads")
        return _find_result(body)

    def count(self, where: dict | None = None) -> int:
        """How many leads match ``where``: ``/leads/count`` where the API has it,
        otherwise ``find(limit=1).total_docs``."""
        compiled = compile_where(where)
        if compiled.matches_nothing:
            return 0
        if not self._count_route_missing:
            status, body, retry_after = self._read("/leads/count", list(compiled.params), compiled)
            if status == 200:
                total = body.get("totalDocs") if isinstance(body, dict) else None
                if not _is_count(total):
                    raise ProtocolError(
                        "The leads API answered the count without a number of leads "
                        "(no totalDocs); is LEADS_API_URL a Payload API?",
                        status=status,
                    )
                return total
            if not (status == 404 and _is_route_not_found(body)):
                self._raise_for(status, body, retry_after, what="the count of leads")
            self._count_route_missing = True
        return self.find(where, limit=1, select=["id"]).total_docs

    def iter_leads(
        self,
        where: dict | None = None,
        page_size: int = 100,
        select: Iterable[str] | None = None,
    ) -> Iterator[dict]:
        """Every lead matching ``where``, in ascending id order, one page in memory
        at a time. Pages by id (``id > last seen``) rather than by page number, so
        leads changed while iterating are neither skipped nor repeated and deep
        pages cost the server no OFFSET scan."""
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        select = list(select) if select is not None else None
        # Refuse a bad where now, not at the first next(): as later pages send it.
        compile_where(_after(where or {}, 0))
        return self._iter_pages(where or {}, page_size, select)

    def _iter_pages(self, where: dict, page_size: int, select) -> Iterator[dict]:
        last_id = None
        while True:
            page_where = where if last_id is None else _after(where, last_id)
            docs = self._first_leads_by_id(page_where, page_size, select)
            for doc in docs:
                lead_id = doc.get("id") if isinstance(doc, dict) else None
                if not isinstance(lead_id, int) or (last_id is not None and lead_id <= last_id):
                    raise ProtocolError(
                        "The leads API returned leads out of id order while paging; "
                        "cannot page through them reliably.",
                        status=200,
                    )
                last_id = lead_id
                yield doc
            # Only a short page says it was the last: without pagination the
            # answer's hasNextPage is always false.
            if len(docs) < page_size:
                return
            del docs  # keep only one page alive while the caller works

    def _first_leads_by_id(self, where: dict, limit: int, select) -> list[dict]:
        """The first ``limit`` leads matching ``where`` by ascending id, sent with
        ``pagination=false``: Payload then still applies the limit and the sort but
        skips counting every match, a second query each paginated find pays and
        keyset paging never reads (tests/contract/test_api_contract.py)."""
        compiled = compile_where(where)
        if compiled.matches_nothing:
            return []
        params = self._read_params(sort="id", limit=limit, depth=0, select=select)
        params = [*compiled.params, ("pagination", "false"), *params]
        status, body, retry_after = self._read("/leads", params, compiled)
        if status != 200:
            self._raise_for(status, body, retry_after, what="the leads")
        return _find_result(body).docs

    def get(self, lead_id: int, depth: int = 0, select: Iterable[str] | None = None) -> dict:
        """One lead by id; NotFound when there is none."""
        lead_id = _lead_id(lead_id)
        params = self._read_params(depth=depth, select=select)
        status, body, retry_after = self._read(f"/leads/{quote(str(lead_id), safe='')}", params)
        if status != 200:
            if status == 404:
                raise NotFound(f"Lead {lead_id} was not found in the leads API.", status=404)
            self._raise_for(status, body, retry_after, what=f"lead {lead_id}")
        if not isinstance(body, dict) or "id" not in body:
            raise ProtocolError(
                f"The leads API answered for lead {lead_id} with something that is not a lead.",
                status=status,
            )
        return body

    # --- writes ---------------------------------------------------------------

    def update_where(
        self, where: dict, data: dict, select: Iterable[str] | None = None
    ) -> UpdateResult:
        """Set ``data`` on every lead matching ``where`` (one bulk PATCH).

        An empty where is refused (Payload would answer 400; "every lead" must be
        said explicitly, e.g. ``{"id": {"exists": True}}``). A where that matches
        nothing returns an empty result without a request.
        """
        body = _data_body(data)
        compiled = compile_where(where)
        if compiled.matches_nothing:
            return UpdateResult(
                docs=[], errors=[], message="Updated 0 Leads: the filter matches none.", status=200
            )
        if not compiled.params:
            raise WhereInvalid(
                [
                    "an update needs a filter; to change every lead say so explicitly "
                    "with {'id': {'exists': True}}"
                ]
            )
        params = [*compiled.params, *_write_params(data, select)]
        url = self._url("/leads", params)
        if len(url) > MAX_PATCH_URL_BYTES:
            raise WhereInvalid(
                [
                    f"the filter is too long to send with an update ({len(url)} bytes; "
                    f"at most {MAX_PATCH_URL_BYTES}); narrow it or update by ids"
                ]
            )
        status, response, retry_after = self._send("PATCH", "/leads", url, compiled, body=body)
        return self._update_result(status, response, retry_after)

    def update_ids(
        self,
        ids: Iterable[int],
        data: dict,
        unchanged_since: datetime | str | None = None,
        chunk_size: int = 100,
    ) -> Iterator[ChunkResult]:
        """Set ``data`` on the leads ``ids``, ``chunk_size`` ids per PATCH (at most
        300, and fewer when a chunk's URL would be too long), yielding one
        ChunkResult per request.

        ``unchanged_since`` is the moment the leads were reviewed: each PATCH adds
        ``updatedAt <= unchanged_since``, so a lead changed after the review is left
        alone and reported in ``conflicts``. (A chunk re-sent after an earlier
        attempt that did write reports its leads as conflicts: their updatedAt is
        now later than the review.)
        """
        body = _data_body(data)
        ids = _unique_ids(ids)
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError("chunk_size must be a positive number of ids")
        chunk_size = min(chunk_size, MAX_IDS_PER_REQUEST)
        since = _since_text(unchanged_since) if unchanged_since is not None else None
        select_params = _write_params(data, None)
        return self._update_chunks(ids, body, since, select_params, chunk_size)

    def _update_chunks(self, ids, body, since, select_params, chunk_size):
        for start in range(0, len(ids), chunk_size):
            yield from self._update_chunk(
                ids[start : start + chunk_size], body, since, select_params
            )

    def _update_chunk(self, chunk, body, since, select_params) -> Iterator[ChunkResult]:
        where: dict = {"id": {"in": chunk}}
        if since is not None:
            where = {"and": [where, {"updatedAt": {"less_than_equal": since}}]}
        compiled = compile_where(where)
        params = [*compiled.params, *select_params]
        url = self._url("/leads", params)
        if len(url) > MAX_PATCH_URL_BYTES and len(chunk) > 1:
            half = len(chunk) // 2
            yield from self._update_chunk(chunk[:half], body, since, select_params)
            yield from self._update_chunk(chunk[half:], body, since, select_params)
            return
        status, response, retry_after = self._send("PATCH", "/leads", url, compiled, body=body)
        result = self._update_result(status, response, retry_after)
        seen = {_id_key(doc.get("id")) for doc in result.docs if isinstance(doc, dict)}
        seen.update(_id_key(error.id) for error in result.errors)
        yield ChunkResult(
            ids=list(chunk),
            docs=result.docs,
            errors=result.errors,
            conflicts=[lead_id for lead_id in chunk if _id_key(lead_id) not in seen],
            message=result.message,
            status=result.status,
        )

    def _update_result(self, status, body, retry_after) -> UpdateResult:
        partial = status == 400 and isinstance(body, dict) and "docs" in body and "message" in body
        if status != 200 and not partial:
            self._raise_for(status, body, retry_after, what="the update")
        if not isinstance(body, dict) or not isinstance(body.get("docs"), list):
            raise ProtocolError(
                "The leads API answered the update without the list of updated leads.",
                status=status,
            )
        errors = body.get("errors") or []
        if not isinstance(errors, list):
            raise ProtocolError(
                "The leads API sent update errors in an unknown shape.", status=status
            )
        message = body.get("message")
        return UpdateResult(
            docs=[doc for doc in body["docs"] if isinstance(doc, dict)],
            errors=[self._update_error(error) for error in errors],
            message=self._scrub(message) if isinstance(message, str) else "",
            status=status,
        )

    def _update_error(self, error) -> UpdateError:
        if isinstance(error, dict):
            message = error.get("message")
            return UpdateError(
                id=_id_value(error.get("id")),
                message=self._scrub(str(message)) if message else "Unknown error.",
            )
        return UpdateError(id=None, message=self._scrub(str(error)))

    # --- HTTP -----------------------------------------------------------------

    def _read_params(self, *, sort=None, limit=None, page=None, depth=0, select=None):
        problems = []
        params: list[tuple[str, str]] = []
        if sort is not None:
            names = [sort] if isinstance(sort, str) else list(sort)
            names = [part.strip() for name in names for part in name.split(",") if part.strip()]
            problems += [
                f"cannot sort by unknown field '{name.lstrip('-')}'"
                for name in names
                if name.lstrip("-") not in FIELDS_BY_NAME
            ]
            if names:
                params.append(("sort", ",".join(names)))
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError("limit must be a positive number (use iter_leads for all leads)")
            params.append(("limit", str(limit)))
        if page is not None:
            if not isinstance(page, int) or isinstance(page, bool) or page < 1:
                raise ValueError("page must be a positive number")
            params.append(("page", str(page)))
        if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 10:
            raise ValueError("depth must be between 0 and 10")
        params.append(("depth", str(depth)))
        if select is not None:
            names = [select] if isinstance(select, str) else list(select)
            problems += _unknown_selections(names)
            params += _select_params(names)
        if problems:
            raise WhereInvalid(problems)
        return [*params, *self._locale_params]

    def _url(self, path: str, params) -> str:
        query = encode_query(params)
        return f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}"

    def _read(self, path: str, params, compiled: CompiledWhere | None = None):
        url = self._url(path, params)
        if len(url.encode()) <= MAX_GET_URL_BYTES:
            return self._send("GET", path, url, compiled)
        return self._send(
            "POST",
            path,
            f"{self.base_url}{path}",
            compiled,
            form=encode_query(params).encode("ascii"),
        )

    def _send(self, method, path, url, compiled, *, body: bytes | None = None, form=None):
        """Send one call with retries; (status, parsed JSON or None, Retry-After)."""
        headers = {}
        content = body
        if form is not None:
            headers = {"X-Payload-HTTP-Method-Override": "GET", "Content-Type": FORM_CONTENT_TYPE}
            content = form
        elif body is not None:
            headers = {"Content-Type": "application/json"}
        is_read = method == "GET" or form is not None
        shown_method = "GET(POST override)" if form is not None else method
        summary = compiled.summary if compiled is not None else "-"
        slept = 0.0
        for attempt in range(1, self._max_attempts + 1):
            try:
                with self._limiter.turn(
                    timeout=self.timeout, max_pause=self._max_retry_after - slept
                ) as paused:
                    slept += paused
                    started = time.perf_counter()
                    response = self._http.request(method, url, content=content, headers=headers)
            except httpx.TransportError as exc:
                self._log(shown_method, path, summary, type(exc).__name__, started, attempt)
                if attempt < self._max_attempts and _may_retry_after(exc, is_read):
                    slept += self._pause(self._backoff(attempt))
                    continue
                raise self._unreachable(exc, method, path) from None
            status = response.status_code
            self._log(shown_method, path, summary, status, started, attempt)
            retry_after = _retry_after(response, self._clock()) if status in (429, 503) else None
            # A 429 was not processed: a write may be sent again too.
            retried = status == 429 or (is_read and status in RETRY_STATUSES)
            if retried and attempt < self._max_attempts:
                delay = self._retry_delay(retry_after, attempt, slept)
                if delay is not None:
                    slept += self._wait_before_retry(status, delay)
                    continue
            return status, _answer_json(response, method, path), retry_after
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _retry_delay(self, retry_after, attempt: int, slept: float) -> float | None:
        """How long to wait before reading again; None: the API asks for a longer
        wait than a page can afford."""
        if retry_after is None:
            return self._backoff(attempt)
        return retry_after if retry_after <= self._max_retry_after - slept else None

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)

    def _wait_before_retry(self, status: int, delay: float) -> float:
        if status != 429:
            return self._pause(delay)
        # Everyone sharing the limiter waits; this call's next turn waits it out
        # (and counts what it waited).
        self._limiter.pause_until(self._clock() + delay)
        return 0.0

    def _pause(self, seconds: float) -> float:
        if seconds > 0:
            self._sleep(seconds)
        return seconds

    def _log(self, method, path, summary, status, started, attempt) -> None:
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s where=%s status=%s duration_ms=%.1f attempt=%d",
                method,
                path,
                summary,
                status,
                (time.perf_counter() - started) * 1000,
                attempt,
            )

    # --- errors ---------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def _where_api(self) -> str:
        return _without_userinfo(self.base_url)

    def _unreachable(self, exc: httpx.TransportError, method: str, path: str) -> ApiUnreachable:
        where = self._where_api()
        if isinstance(exc, httpx.TimeoutException) and not isinstance(
            exc, httpx.ConnectTimeout | httpx.PoolTimeout
        ):
            reason = f"it did not answer {method} {path} within {self.timeout:g} s"
            advice = "The API is slow or down; try again later."
            if method != "GET":
                advice += " The change may or may not have been saved: check before repeating it."
        elif isinstance(exc, httpx.ConnectTimeout):
            reason = f"connecting took longer than {min(self.timeout, 10.0):g} s"
            advice = "Check LEADS_API_URL and that the API is up."
        else:
            detail = self._scrub(str(exc))[:_MAX_SERVER_MESSAGE] or type(exc).__name__
            reason = f"{type(exc).__name__}: {detail}"
            advice = "Check LEADS_API_URL, the network and that the API is up."
        return ApiUnreachable(f"The leads API at {where} could not be reached ({reason}). {advice}")

    def _refusal(self, body: dict, what: str, messages: list[str]) -> LeadsApiError:
        """A 400 with Payload's error body: a query the API cannot run, or values
        it refused."""
        first = (body.get("errors") or [{}])[0]
        if isinstance(first, dict) and first.get("name") == "QueryError":
            paths = [
                self._scrub(str(item.get("path")))
                for item in first.get("data") or []
                if isinstance(item, dict) and item.get("path")
            ]
            return QueryRefused(
                f"The leads API cannot filter by {', '.join(paths) or 'this query'}: "
                "the field or operator is unknown to it. Remove that condition.",
                paths=paths,
            )
        details = _validation_details(first)
        if details:
            messages = [self._scrub(m) for m in details]
        said = f" It said: {' '.join(messages)}" if messages else ""
        return ValidationFailed(
            f"The leads API refused {what} (HTTP 400).{said}", messages=messages
        )

    def _raise_for(self, status: int, body, retry_after: float | None, *, what: str):
        messages = [self._scrub(m)[:_MAX_SERVER_MESSAGE] for m in _server_messages(body)]
        said = f" It said: {' '.join(messages)}" if messages else ""
        if status in (401, 403):
            raise ApiUnauthorized(
                f"The leads API refused access to {what} (HTTP {status}): the API key was "
                f"refused or lacks permission. Check LEADS_API_KEY.{said}",
                status=status,
            )
        if status == 404:
            raise NotFound(f"The leads API found no {what} (HTTP 404).{said}", status=404)
        if status == 429:
            asks = f" and asks us to wait {retry_after:.0f} s" if retry_after else ""
            raise RateLimited(
                f"The leads API is rate-limiting us (429){asks}; a call waits at most "
                f"{self._max_retry_after:g} s over {self._max_attempts} tries. Try again in a "
                "minute; if it keeps happening, lower LEADS_API_MAX_PER_SECOND or "
                "LEADS_API_MAX_CONCURRENT.",
                retry_after=retry_after,
                status=429,
            )
        if status >= 500:
            raise ServerError(
                f"The leads API failed while handling {what} (HTTP {status}).{said} "
                "Try again later; if it keeps failing, tell whoever runs the API.",
                status=status,
            )
        if status == 400 and isinstance(body, dict):
            raise self._refusal(body, what, messages)
        if status == 400:
            raise ValidationFailed(f"The leads API refused {what} (HTTP 400).", messages=[])
        if 200 <= status < 300:
            raise ProtocolError(
                f"The leads API answered {what} with HTTP {status} and no usable JSON.",
                status=status,
            )
        raise LeadsApiError(
            f"The leads API answered {what} with HTTP {status}.{said}", status=status
        )


# --- helpers for answers --------------------------------------------------------


def _answer_json(response: httpx.Response, method: str, path: str):
    """The answer's JSON (None when it has none); a redirect or a 2xx without
    JSON is an error that says what to check."""
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", ""))
        target = _without_userinfo(urlunsplit(target._replace(query="", fragment="")))
        raise LeadsApiError(
            f"The leads API redirected {method} {path} (HTTP {status}) to "
            f"{target or 'another address'}; set LEADS_API_URL to the address it "
            "redirects to (a redirected update would not be repeated).",
            status=status,
        )
    body = _json_or_none(response)
    if body is None and 200 <= status < 300:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise ProtocolError(
            f"The leads API answered {method} {path} with {kind} instead of JSON; "
            "is LEADS_API_URL the API's address (ending in /api)?",
            status=status,
        )
    return body


def _after(where: dict, last_id: int) -> dict:
    """``where`` AND ``id > last_id``, without nesting deeper when it can be helped
    (the API reads at most 10 bracket levels): as a sibling key (siblings are
    AND-ed), or as one more operator on an existing ``id`` condition."""
    after = {"greater_than": last_id}
    ids = where.get("id")
    if "id" not in where:
        return {**where, "id": after}
    if isinstance(ids, dict) and "greater_than" not in ids:
        return {**where, "id": {**ids, **after}}
    return {"and": [where, {"id": after}]}


def _find_result(body) -> FindResult:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("docs"), list)
        or not _is_count(body.get("totalDocs"))
        or not all(isinstance(doc, dict) for doc in body["docs"])
    ):
        raise ProtocolError(
            "The leads API answered a list request without docs and totalDocs; "
            "is LEADS_API_URL a Payload API?",
            status=200,
        )

    def number(key, default):
        value = body.get(key, default)
        return value if _is_count(value) else default

    limit = number("limit", len(body["docs"]))
    page = number("page", 1)
    return FindResult(
        docs=body["docs"],
        total_docs=body["totalDocs"],
        limit=limit,
        total_pages=number("totalPages", 1),
        page=page,
        paging_counter=number("pagingCounter", (page - 1) * limit + 1),
        has_prev_page=bool(body.get("hasPrevPage", False)),
        has_next_page=bool(body.get("hasNextPage", False)),
        prev_page=body.get("prevPage") if _is_count(body.get("prevPage")) else None,
        next_page=body.get("nextPage") if _is_count(body.get("nextPage")) else None,
    )


def _empty_page(limit: int) -> FindResult:
    """What Payload answers for a where that matches nothing."""
    return FindResult(
        docs=[],
        total_docs=0,
        limit=limit,
        total_pages=1,
        page=1,
        paging_counter=1,
        has_prev_page=False,
        has_next_page=False,
        prev_page=None,
        next_page=None,
    )


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_or_none(response: httpx.Response):
    # orjson first: decoding the API's JSON was a third of a 10,000-lead review's
    # CPU with the standard library (bench/bench_review.py). The standard library
    # still reads what orjson refuses (NaN, Infinity, UTF-16). orjson reads an
    # integer beyond 64 bits as a float, as the API's JavaScript does.
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        return None


def _server_messages(body) -> list[str]:
    if not isinstance(body, dict):
        return []
    messages = []
    for error in body.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            messages.append(error["message"])
        elif isinstance(error, str):
            messages.append(error)
    if not messages and isinstance(body.get("message"), str):
        messages.append(body["message"])
    return messages


def _validation_details(error) -> list[str]:
    """Payload's ValidationError: ``data.errors[] = {label, message, path}``."""
    if not isinstance(error, dict):
        return []
    data = error.get("data")
    items = data.get("errors") if isinstance(data, dict) else None
    details = []
    for item in items or []:
        if isinstance(item, dict) and item.get("message"):
            label = item.get("label") or item.get("path")
            details.append(f"{label}: {item['message']}" if label else str(item["message"]))
    if not details and isinstance(error.get("message"), str):
        details.append(error["message"])
    return details


def _is_route_not_found(body) -> bool:
    """Payload's unknown-route 404 is ``{"message": "Route not found ..."}`` (no
    ``errors`` list), unlike a missing document's ``{"errors": [...]}``."""
    return (
        isinstance(body, dict)
        and "errors" not in body
        and str(body.get("message", "")).startswith("Route not found")
    ) or body is None


def _retry_after(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _may_retry_after(exc: httpx.TransportError, is_read: bool) -> bool:
    # These three mean the request never left this process.
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    # A read is idempotent: retry a connection that dropped (a stale keep-alive).
    return is_read and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)


# --- helpers for requests -------------------------------------------------------


def _data_body(data) -> bytes:
    if not isinstance(data, dict) or not data:
        raise DataInvalid(["give the fields to change as a non-empty mapping"])
    problems = []
    for name in data:
        field = FIELDS_BY_NAME.get(name)
        if field is None:
            problems.append(f"unknown field '{name}'")
        elif not field.bulk_editable:
            problems.append(f"'{name}' cannot be changed")
    if problems:
        raise DataInvalid(problems)
    try:
        return json.dumps(
            data, default=_json_value, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise DataInvalid([str(exc)]) from None


def _json_value(value):
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} value")


def _write_params(data: dict, select) -> list[tuple[str, str]]:
    """Ask only for what a write needs back (Payload otherwise returns each
    updated lead whole): the changed fields and updatedAt; id always comes."""
    names = list(select) if select is not None else list(data)
    problems = _unknown_selections(names)
    if problems:
        raise WhereInvalid(problems)
    return [("depth", "0"), *_select_params([*names, "updatedAt"])]


def _unknown_selections(names: list[str]) -> list[str]:
    return [f"cannot select unknown field '{name}'" for name in names if name not in FIELDS_BY_NAME]


def _select_params(names: list[str]) -> list[tuple[str, str]]:
    return [(f"select[{name}]", "true") for name in dict.fromkeys(names)]


def _lead_id(value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a lead id")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"{value!r} is not a lead id")


def _unique_ids(ids) -> list[int]:
    if isinstance(ids, str | bytes):
        raise ValueError("ids must be a list of lead ids")
    return list(dict.fromkeys(_lead_id(lead_id) for lead_id in ids))


def _id_value(value):
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _id_key(value) -> str:
    return str(value)


def _since_text(moment) -> str:
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("unchanged_since must carry a time zone")
        return iso_utc(moment)
    if isinstance(moment, str) and moment:
        return moment
    raise ValueError("unchanged_since must be a datetime or an ISO date-time string")


def _secrets_of(authorization: str) -> list[str]:
    """The header value and its key alone ("users API-Key <key>" → "<key>")."""
    secrets = [authorization, authorization.rsplit(" ", 1)[-1]] if authorization else []
    return sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
