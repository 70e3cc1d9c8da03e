"""The proposals' settings: the four-eyes threshold, the superuser exemption and
the email URL start up from their defaults and refuse malformed values by name."""

import pytest
from django.conf import settings

from tests.test_settings import start


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"BULK_APPROVAL_THRESHOLD": "many"}, "BULK_APPROVAL_THRESHOLD"),
        ({"BULK_APPROVAL_EXEMPT_SUPERUSERS": "perhaps"}, "BULK_APPROVAL_EXEMPT_SUPERUSERS"),
        ({"EMAIL_URL": "pigeon://loft"}, "EMAIL_URL"),
    ],
)
def test_a_malformed_proposal_setting_stops_startup_naming_it(overrides, named):
    result = start(**overrides)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and named in last_line


def test_smtp_settings_come_from_email_url():
    assert start(EMAIL_URL="smtp+tls://user:secret@smtp.example.com:587").returncode == 0


def test_the_defaults_hold_big_edits_for_approval_and_exempt_superusers():
    assert settings.BULK_APPROVAL_THRESHOLD == 1000
    assert settings.BULK_APPROVAL_EXEMPT_SUPERUSERS is True
