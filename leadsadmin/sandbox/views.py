"""The sandbox's HTTP layer: Payload's REST routes for the `leads` collection."""

import io

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from leadsadmin.core.jsontext import CompactJSONEncoder

from . import operations
from .limits import Refused, body_too_large, parse_json, too_deep
from .models import AUTH_COLLECTION, ApiKey
from .operations import FORBIDDEN, INVALID_JSON, PayloadError
from .querystring import parse_query_string

_KEY_PREFIX = f"{AUTH_COLLECTION} API-Key "


def sandbox_api(view):
    """Off (404) unless SANDBOX_ENABLED; open to machines (no session, no CSRF) that
    send a valid key; PayloadError and the refusals of hostile input become
    Payload's JSON answer.

    The key is checked first, before anything else of the request is read: a
    caller without a valid key gets 403 whatever its body, query or method, and
    its body is never read (a documented difference: Payload reads the body and
    the where before the key, package docstring)."""

    @csrf_exempt
    @login_not_required
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off")
        try:
            if not _authorized(request):
                raise PayloadError(403, FORBIDDEN)
            status, body = view(request, *args, **kwargs)
        except PayloadError as exc:
            status, body = exc.status, exc.body
        except (Refused, SuspiciousOperation) as exc:
            refusal = _refusal(exc)
            status, body = refusal.status, refusal.body()
        return JsonResponse(body, status=status, encoder=CompactJSONEncoder)

    wrapper.__name__ = view.__name__
    return wrapper


def _refusal(exc: Exception) -> Refused:
    """Django's own refusals (a multipart body with too many fields or files, a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE) answered in Payload's shape, not as HTML."""
    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return Refused(413, "The request body is too large.")
    return Refused(400, "The request has too many fields or is malformed.")


def _authorized(request) -> bool:
    """`users API-Key <key>` (stock Payload) or the bare key (the hosted API)."""
    header = request.headers.get("Authorization", "")
    key = header.removeprefix(_KEY_PREFIX)
    return ApiKey.is_valid(key)


def _query(request) -> dict:
    """The query as Payload parses it, including POST + method override GET with
    a form body (the body is appended to the URL, exactly as Payload does)."""
    raw = request.META.get("QUERY_STRING", "")
    form = request.META.get("CONTENT_TYPE") == "application/x-www-form-urlencoded"
    if _is_get_override(request) and form:
        body = _raw_body(request).decode("utf-8", errors="replace")
        raw = f"{raw}?{body}" if raw else body
    if "%00" in raw or "\x00" in raw:
        # No stored text holds a NUL (writes refuse it), and PostgreSQL refuses one
        # in a query parameter outright: say so instead of failing.
        raise Refused(400, "The query contains a NUL character (%00).")
    return parse_query_string(raw)


def _is_read(request) -> bool:
    return request.method == "GET" or _is_get_override(request)


def _is_get_override(request) -> bool:
    return request.method == "POST" and (
        request.headers.get("X-Payload-HTTP-Method-Override") == "GET"
        or request.headers.get("X-HTTP-Method-Override") == "GET"
    )


def _raw_body(request) -> bytes:
    """The body's bytes; one over SANDBOX_MAX_BODY_BYTES is refused by its
    Content-Length (Django reads no more than that) without being read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # as Django reads it: no body
    refusal = body_too_large(declared)
    if refusal:
        raise refusal
    return request.body


def _json(raw: bytes):
    """Parsed JSON; its nesting is measured first, without parsing (limits.too_deep)."""
    refusal = too_deep(raw)
    if refusal:
        raise refusal
    return parse_json(raw)


def _body(request):
    """The JSON body (or multipart `_payload`), as Payload reads it; None when it
    reads no data at all: another content type, an empty body, or `null`."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0]
    try:
        if content_type == "application/json":
            raw = _raw_body(request)
            return _json(raw) if raw else None
        if content_type.startswith("multipart/"):
            # Django parses form bodies of POST only; Payload's admin PATCHes multipart.
            raw = _raw_body(request)
            fields, _ = request.parse_file_upload(request.META, io.BytesIO(raw))
            if "_payload" not in fields:
                return {}
            return _json(fields["_payload"].encode())
    except ValueError:
        raise PayloadError(400, INVALID_JSON) from None
    return None


def _route_not_found(request):
    return 404, {"message": f'Route not found "{request.path}"'}


# The views run only for a valid key (`sandbox_api`): the operations are told so.


@sandbox_api
def leads(request):
    if _is_read(request):
        return 200, operations.leads_find(_query(request), authorized=True)
    if request.method == "PATCH":
        body = _body(request)
        return operations.leads_update(_query(request), body, authorized=True)
    return _route_not_found(request)


@sandbox_api
def leads_count(request):
    if _is_read(request):
        return 200, operations.leads_count(_query(request), authorized=True)
    return _route_not_found(request)


@sandbox_api
def lead(request, lead_id):
    if _is_read(request):
        return 200, operations.lead_get(lead_id, _query(request), authorized=True)
    if request.method == "PATCH":
        body = _body(request)
        return 200, operations.lead_update(lead_id, _query(request), body, authorized=True)
    return _route_not_found(request)
