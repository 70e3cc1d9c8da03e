"""The demo command's setup (everything before it starts serving)."""

from django.contrib.auth import authenticate
from django.contrib.auth.models import User

from leadsadmin.core import roles
from leadsadmin.core.management.commands.demo import demo_setup
from leadsadmin.sandbox.models import ApiKey, Lead


def test_demo_setup_seeds_an_empty_sandbox_and_creates_the_four_users(db):
    setup = demo_setup(seed_count=40, password="demo-pass-1")

    assert setup.seeded == 40
    assert Lead.objects.count() == 40
    for username, group in [
        ("salesops", roles.SALES_OPS),
        ("teamlead", roles.TEAM_LEADS),
        ("auditor", roles.AUDITORS),
    ]:
        user = authenticate(username=username, password="demo-pass-1")
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert not user.is_superuser
    admin = authenticate(username="admin", password="demo-pass-1")
    assert admin.is_superuser and admin.is_staff


def test_demo_setup_issues_a_working_key_as_a_header_value(db):
    setup = demo_setup(seed_count=1, password="demo-pass-1")

    prefix, key = setup.authorization.rsplit(" ", 1)
    assert prefix == "users API-Key"
    assert ApiKey.is_valid(key)


def test_a_second_run_keeps_the_leads_and_resets_the_passwords(db):
    demo_setup(seed_count=5, password="first-pass-1")
    again = demo_setup(seed_count=5, password="second-pass-2")

    assert again.seeded == 0
    assert Lead.objects.count() == 5
    demo_users = ["salesops", "teamlead", "auditor", "admin"]
    assert User.objects.filter(username__in=demo_users).count() == 4
    assert authenticate(username="teamlead", password="first-pass-1") is None
    assert authenticate(username="teamlead", password="second-pass-2") is not None


def test_the_password_comes_from_demo_password_or_is_generated(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env-3")
    assert demo_setup(seed_count=1).password == "from-the-env-3"

    monkeypatch.delenv("DEMO_PASSWORD")
    generated = demo_setup(seed_count=1).password
    assert len(generated) >= 10
    assert authenticate(username="auditor", password=generated) is not None
