"""/healthz: open to a load balancer, says what answers, never shows the key."""

from django.urls import reverse

from leadsadmin.ops import health


def test_healthz_is_open_and_says_database_api_and_queue(client, seeded_sandbox, settings):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "leads_api": "reachable",
        "queue_depth": 0,
        "status": "ok",
    }
    assert settings.LEADS_API_KEY not in response.text
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_fails_with_503_when_the_api_refuses_the_key(client, sandbox_api, settings):
    settings.LEADS_API_KEY = "users API-Key wrong-key-0123456789"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "failing"
    assert report["leads_api"].startswith("unreachable: ")
    assert "wrong-key-0123456789" not in response.text


def test_healthz_reports_a_failing_database(client, monkeypatch, sandbox_api):
    monkeypatch.setattr(health, "_database", lambda: "failing: OperationalError")
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "failing: OperationalError"
    assert response.json()["queue_depth"] is None
