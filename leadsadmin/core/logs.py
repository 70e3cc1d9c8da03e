"""Logging filters the settings' LOGGING installs."""

import logging

from django.core.exceptions import PermissionDenied


class RefusalWithoutTraceback(logging.Filter):
    """A page refused to a role without access is routine, not a fault: Django's
    "Forbidden (Permission denied): /path" line stays, its traceback goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
