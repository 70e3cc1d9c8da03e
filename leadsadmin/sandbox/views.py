"""The sandbox's HTTP layer: Payload's REST routes for the `leads` collection."""

import io
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import operations
from .models import AUTH_COLLECTION, ApiKey
from .operations import INVALID_JSON, PayloadError
from .querystring import parse_query_string

_KEY_PREFIX = f"{AUTH_COLLECTION} API-Key "


def sandbox_api(view):
    """Off (404) unless SANDBOX_ENABLED; open to machines (no session, no CSRF);
    PayloadError becomes Payload's JSON answer."""

    @csrf_exempt
    @login_not_required
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off")
        try:
            status, body = view(request, *args, **kwargs)
        except PayloadError as exc:
            status, body = exc.status, exc.body
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})

    wrapper.__name__ = view.__name__
    return wrapper


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
        body = request.body.decode("utf-8", errors="replace")
        raw = f"{raw}?{body}" if raw else body
    return parse_query_string(raw)


def _is_read(request) -> bool:
    return request.method == "GET" or _is_get_override(request)


def _is_get_override(request) -> bool:
    return request.method == "POST" and (
        request.headers.get("X-Payload-HTTP-Method-Override") == "GET"
        or request.headers.get("X-HTTP-Method-Override") == "GET"
    )


def _body(request):
    """The JSON body (or multipart `_payload`), as Payload reads it; None when it
    reads no data at all: another content type, an empty body, or `null`."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0]
    try:
        if content_type == "application/json":
            return json.loads(request.body) if request.body else None
        if content_type.startswith("multipart/"):
            # Django parses form bodies of POST only; Payload's admin PATCHes multipart.
            fields, _ = request.parse_file_upload(request.META, io.BytesIO(request.body))
            return json.loads(fields["_payload"]) if "_payload" in fields else {}
    except ValueError:
        raise PayloadError(400, INVALID_JSON) from None
    return None


def _route_not_found(request):
    return 404, {"message": f'Route not found "{request.path}"'}


@sandbox_api
def leads(request):
    if _is_read(request):
        return 200, operations.leads_find(_query(request), authorized=_authorized(request))
    if request.method == "PATCH":
        body = _body(request)
        return operations.leads_update(_query(request), body, authorized=_authorized(request))
    return _route_not_found(request)


@sandbox_api
def leads_count(request):
    if _is_read(request):
        return 200, operations.leads_count(_query(request), authorized=_authorized(request))
    return _route_not_found(request)


@sandbox_api
def lead(request, lead_id):
    if _is_read(request):
        return 200, operations.lead_get(lead_id, _query(request), authorized=_authorized(request))
    if request.method == "PATCH":
        body = _body(request)
        return 200, operations.lead_update(
            lead_id, _query(request), body, authorized=_authorized(request)
        )
    return _route_not_found(request)
