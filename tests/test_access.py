"""Who may open which page: anonymous users, each role, superusers."""

from urllib.request import urlopen

import pytest
from django.contrib.auth.models import Group

from leadsadmin.core import roles

PAGES = {
    "leads": "/leads/",
    "export": "/leads/export.csv",
    "bulk": "/bulk/new",
    "audit": "/audit/",
    "admin": "/admin/",
}

# kind → pages it may open (others: 403, or the admin login for /admin/)
ALLOWED = {
    "salesops": {"leads", "export"},
    "teamlead": {"leads", "export", "bulk", "audit"},
    "auditor": {"audit"},
    "norole": set(),
    "admin": set(PAGES),
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", *PAGES.values()])
def test_anonymous_is_sent_to_login_everywhere(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_login_page_and_static_files_are_open(client, live_server):
    assert client.get("/login/").status_code == 200
    with urlopen(f"{live_server.url}/static/css/app.css") as response:
        assert response.status == 200
        assert b".htmx-indicator" in response.read()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_each_role_opens_exactly_its_pages(client_as, kind):
    client = client_as(kind)
    for name, path in PAGES.items():
        response = client.get(path)
        if name == "export" and name in ALLOWED[kind]:
            # Allowed; no API is configured here, so the export says it failed.
            assert response.status_code == 502, (kind, path)
        elif name in ALLOWED[kind]:
            assert response.status_code == 200, (kind, path)
        elif name == "admin":
            assert response.status_code == 302, (kind, path)  # the admin's own login
        else:
            assert response.status_code == 403, (kind, path)
            assert b"permission" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "landing"),
    [
        ("salesops", "/leads/"),
        ("teamlead", "/leads/"),
        ("auditor", "/audit/"),
        ("admin", "/leads/"),
    ],
)
def test_each_role_lands_where_its_work_is_after_sign_in(client, make_user, kind, landing):
    make_user(kind)
    response = client.post("/login/", {"username": kind, "password": "pw"})
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == landing
    assert client.get(landing).status_code == 200


NAV = {"Leads": "/leads/", "Audit": "/audit/", "My operations": "/audit/?mine=1"}
NAV_SHOWN = {
    "salesops": {"Leads"},
    "teamlead": {"Leads", "Audit", "My operations"},
    "auditor": {"Audit"},
    "admin": {"Leads", "Audit", "My operations"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(NAV_SHOWN))
def test_the_navigation_shows_only_the_pages_a_role_can_open(client_as, kind):
    client = client_as(kind)
    page = client.get("/leads/" if "Leads" in NAV_SHOWN[kind] else "/audit/").content.decode()
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for label, path in NAV.items():
        link = f'href="{path}"'.replace("&", "&amp;")
        assert (link in nav and f">{label}<" in nav) is (label in NAV_SHOWN[kind]), label
        if label in NAV_SHOWN[kind]:
            assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_roles_migration_created_groups_with_permissions():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert codenames(roles.SALES_OPS) == {"view_leads", "export_leads", "propose_bulk_edit"}
    assert codenames(roles.TEAM_LEADS) == {
        "view_leads",
        "export_leads",
        "bulk_edit_leads",
        "revert_changes",
        "view_audit",
        "propose_bulk_edit",
        "approve_bulk_edit",
    }
    assert codenames(roles.AUDITORS) == {"view_audit"}


@pytest.mark.django_db
def test_team_lead_has_bulk_edit_and_sales_ops_does_not(make_user):
    assert make_user("teamlead").has_perm(roles.BULK_EDIT_LEADS)
    assert not make_user("salesops").has_perm(roles.BULK_EDIT_LEADS)
    assert make_user("admin").has_perm(roles.BULK_EDIT_LEADS)


@pytest.mark.django_db
def test_base_layout_has_nav_csp_nonce_and_htmx(client_as):
    response = client_as("admin").get("/leads/")
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    assert f'nonce="{nonce}"' in html
    assert "htmx" in html and "X-CSRFToken" in html
    for text in (">Leads<", ">Audit<", ">admin<", "Log out", 'id="global-indicator"'):
        assert text in html
    # every <script> carries the nonce
    assert html.count("<script") == html.count(f'nonce="{nonce}"') - html.count("<style")


@pytest.mark.django_db
def test_logout_signs_out(client_as):
    client = client_as("salesops")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/leads/").status_code == 302
