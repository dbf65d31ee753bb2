from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthoritiesConfig(AppConfig):
    name = "authorities"
    verbose_name = _("Authorities and reference data")
