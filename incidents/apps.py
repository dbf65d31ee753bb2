from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        # notifications.services call the registry when a notification is sent or amended;
        # incidents sit above notifications and cannot be called from there directly.
        from notifications import risk
        from notifications.models import RiskKind

        from .flags import assess, index_notification

        risk.register("party_names", index_notification)
        risk.register_assessor(RiskKind.INCIDENT_PARTY, assess)
