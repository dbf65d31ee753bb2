from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import notifications.urls
import timeliness.urls
from accounts.oauth import ThrottledTokenView

from . import pages, views

# Branded error pages (JSON under /api/ and /oauth/): pen_portal/errors.py.
handler400 = "pen_portal.errors.bad_request"
handler403 = "pen_portal.errors.permission_denied"
handler404 = "pen_portal.errors.not_found"
handler500 = "pen_portal.errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Help for each role, the accessibility statement and the privacy notice.
    path("", include((pages.urlpatterns, pages.app_name))),
    path("accounts/", include("accounts.urls")),
    path("authorities/", include("authorities.urls")),
    # The notification's pages, and beside them the timeliness figure the filing form asks
    # for, under the one namespace "notifications" (the upper app mounts into the lower's).
    path(
        "notifications/",
        include((timeliness.urls.notification_patterns + notifications.urls.urlpatterns, notifications.urls.app_name)),
    ),
    path("incb/follow-up/", include("chasing.urls")),
    path("timeliness/", include("timeliness.urls")),
    path("incidents/", include("incidents.urls")),
    path("", include("monitoring.urls")),
    path("webhooks/", include("messaging.urls")),
    path("api/v1/", include("pen_portal.rest_routes")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Only the token endpoint: client credentials need no authorisation pages.
    path("oauth/token/", ThrottledTokenView.as_view(), name="oauth-token"),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg")),
]
