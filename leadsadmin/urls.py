from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from leadsadmin.core import views as core_views
from leadsadmin.ops.health import healthz

handler403 = core_views.permission_denied

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("leads/", include("leadsadmin.leads.urls")),
    path("bulk/", include("leadsadmin.bulk.urls")),
    path("sandbox/api/", include("leadsadmin.sandbox.urls")),
    path("audit/", include("leadsadmin.audit.urls")),
    path("proposals/", include("leadsadmin.proposals.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico by themselves (e.g. on a JSON download): send them to
    # the one icon instead of a 404 in the console.
    path(
        "favicon.ico",
        login_not_required(
            RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)
        ),
        name="favicon",
    ),
]
