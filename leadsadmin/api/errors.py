"""The errors the leads API client raises.

Every error's ``str()`` (and ``.message``) is a sentence a person can act on. Errors
carry plain values only (status, paths, messages, retry delay), never the httpx
request or response: those hold the ``Authorization`` header, and the key must not
reach a page, a log line or a traceback. The client scrubs the key from any server
text before it builds an error.
"""

from __future__ import annotations


class LeadsApiError(Exception):
    """Base class: anything that went wrong talking to the leads API."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        status = f", status={self.status}" if self.status is not None else ""
        return f"{type(self).__name__}({self.message!r}{status})"


class WhereInvalid(LeadsApiError):
    """The query was refused before anything was sent: unknown field, operator not
    valid for the field's type, a value the query string cannot carry, too big."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("The filter cannot be sent: " + "; ".join(self.problems) + ".")


class ApiUnreachable(LeadsApiError):
    """No answer: connection refused, DNS failure, timeout, connection dropped."""


class ApiUnauthorized(LeadsApiError):
    """401 or 403: the key is missing, wrong, or may not do this."""


class QueryRefused(LeadsApiError):
    """400 QueryError: the API would not query these paths."""

    def __init__(self, message: str, *, paths: list[str], status: int | None = 400):
        super().__init__(message, status=status)
        self.paths = list(paths)


class ValidationFailed(LeadsApiError):
    """400 with messages: the API refused the data or the request."""

    def __init__(self, message: str, *, messages: list[str], status: int | None = 400):
        super().__init__(message, status=status)
        self.messages = list(messages)


class DataInvalid(ValidationFailed):
    """Refused before sending: the update names a field the schema does not know or
    one that cannot be changed in bulk."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        message = "The change cannot be sent: " + "; ".join(self.problems) + "."
        super().__init__(message, messages=self.problems, status=None)


class NotFound(LeadsApiError):
    """404: no such lead (or no such route)."""


class RateLimited(LeadsApiError):
    """429: the API asks us to slow down; ``retry_after`` is its wish in seconds."""

    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ApiBusy(RateLimited):
    """Not sent: our own shared limit (LEADS_API_MAX_CONCURRENT or
    LEADS_API_MAX_PER_SECOND) had no room for the call within the request timeout."""

    def __init__(self, message: str):
        super().__init__(message, retry_after=None, status=None)


class ServerError(LeadsApiError):
    """5xx: the API failed; nothing the dashboard sent was wrong as far as we know."""


class ProtocolError(LeadsApiError):
    """The answer was not JSON or not shaped like Payload's answers."""
