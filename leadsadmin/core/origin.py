"""Where a request came from, as every audit record keeps it."""

USER_AGENT_MAX = 500


def request_origin(request) -> dict:
    """{"ip": the requester's address, "user_agent": their browser's name}."""
    if request is None:
        return {"ip": None, "user_agent": ""}
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    }
