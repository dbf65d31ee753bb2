from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("REST API")

    def ready(self):
        # Registers the OAuth 2.0 security scheme with drf-spectacular.
        from . import schema  # noqa: F401
