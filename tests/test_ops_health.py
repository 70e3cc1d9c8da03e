"""/healthz: open to a load balancer, says what answers, never shows the key."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leadsadmin.bulk.models import WorkerBeat
from leadsadmin.bulk.tasks import bulk_operation_task
from leadsadmin.ops import health


def test_healthz_is_open_and_says_database_api_and_queue(client, seeded_sandbox, settings):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "leads_api": "reachable",
        "queue": "ok",
        "queue_depth": 0,
        "workers": {"alive": 0, "newest_beat_age_s": None},
        "status": "ok",
    }
    assert settings.LEADS_API_KEY not in response.text
    assert response["Cache-Control"].startswith("max-age=0")
    assert client.head(reverse("healthz")).status_code == 200  # monitors that ask with HEAD


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
    assert response.json()["workers"] is None


def _enqueue_two(settings):
    for operation_id in (1, 2):
        bulk_operation_task.using(queue_name=settings.TASKS_QUEUE).enqueue(operation_id, "t")


def test_healthz_counts_live_workers_and_the_tasks_waiting(
    client, sandbox_api, task_queue, settings
):
    settings.BULK_WORKER_DEAD_AFTER = 60
    now = timezone.now()
    WorkerBeat.objects.create(name="host:1:a", beat_at=now - timedelta(seconds=9))
    WorkerBeat.objects.create(name="host:2:b", beat_at=now - timedelta(seconds=2))
    WorkerBeat.objects.create(name="host:3:gone", beat_at=now - timedelta(minutes=5))
    WorkerBeat.objects.create(name="host:4:stopped", beat_at=now, stopped_at=now)
    _enqueue_two(settings)

    report = client.get(reverse("healthz")).json()

    assert report["workers"]["alive"] == 2
    assert 2 <= report["workers"]["newest_beat_age_s"] < 9
    assert report["queue_depth"] == 2
    assert report["status"] == "ok"


def test_healthz_stays_up_without_a_live_worker_and_says_so(client, sandbox_api):
    WorkerBeat.objects.create(name="host:1:gone", beat_at=timezone.now() - timedelta(hours=1))
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["workers"] == {"alive": 0, "newest_beat_age_s": None}


@pytest.mark.redis
@pytest.mark.parametrize("task_queue", ["rq"], indirect=True)
def test_healthz_reads_the_rq_queue_and_fails_when_redis_does_not_answer(
    client, sandbox_api, task_queue, settings
):
    _enqueue_two(settings)
    assert client.get(reverse("healthz")).json()["queue_depth"] == 2

    unreachable = "redis://:hunter2-secret@127.0.0.1:1/0"
    settings.RQ_QUEUES = {settings.TASKS_QUEUE: {"URL": unreachable}}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    report = response.json()
    assert report["queue"].startswith("failing: ")
    assert (report["queue_depth"], report["status"]) == (None, "failing")
    assert "hunter2" not in response.text and "127.0.0.1:1" not in response.text
