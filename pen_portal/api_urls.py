"""Every path of REST API v1 (../shared/spec/api-v1.md); the apps provide the views."""

from rest_framework.routers import DefaultRouter

from authorities import api as authorities_api

router = DefaultRouter()
router.register("substances", authorities_api.SubstanceViewSet, basename="substance")
router.register("countries", authorities_api.CountryViewSet, basename="country")
router.register("authorities", authorities_api.AuthorityViewSet, basename="authority")

urlpatterns = router.urls
