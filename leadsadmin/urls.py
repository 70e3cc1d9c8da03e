from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

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
]
