from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimelinessConfig(AppConfig):
    name = "timeliness"
    verbose_name = _("Response timeliness")
