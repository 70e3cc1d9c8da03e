"""A page refused to a role without access is logged as one line, not a traceback."""

import logging

from leadsadmin.core.logs import RefusalWithoutTraceback


def test_a_refused_page_is_one_log_line_without_a_traceback(client_as, caplog):
    client = client_as("salesops")

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/bulk/new")

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /bulk/new"
    assert record.exc_info is None
    assert "\n" not in logging.Formatter().format(record)


def test_other_errors_keep_their_traceback():
    try:
        raise ValueError("broken")
    except ValueError as error:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: /x",
            (),
            (type(error), error, error.__traceback__),
        )

    assert RefusalWithoutTraceback().filter(record)
    assert "Traceback" in logging.Formatter().format(record)
