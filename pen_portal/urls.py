from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider.views import TokenView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("authorities/", include("authorities.urls")),
    path("notifications/", include("notifications.urls")),
    path("incb/follow-up/", include("notifications.followup_urls")),
    path("timeliness/", include("notifications.timeliness_urls")),
    path("webhooks/", include("notifications.webhook_urls")),
    path("api/v1/", include("pen_portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Only the token endpoint: client credentials need no authorisation pages.
    path("oauth/token/", TokenView.as_view(), name="oauth-token"),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg")),
]
