"""Every path of REST API v1 (docs/api.md); the apps provide the views."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from authorities import api as authorities_api
from incidents import api as incidents_api
from messaging import api as messaging_api
from monitoring import api as monitoring_api
from notifications import api as notifications_api
from timeliness.api import TimelinessView

router = DefaultRouter()
router.register("substances", authorities_api.SubstanceViewSet, basename="substance")
router.register("countries", authorities_api.CountryViewSet, basename="country")
router.register("authorities", authorities_api.AuthorityViewSet, basename="authority")
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")
router.register("webhooks", messaging_api.WebhookEndpointViewSet, basename="webhook")
router.register("incidents", incidents_api.IncidentViewSet, basename="incident")
router.register("estimates", monitoring_api.EstimateViewSet, basename="estimate")

urlpatterns = router.urls + [
    path("timeliness/", TimelinessView.as_view(), name="timeliness"),
]
