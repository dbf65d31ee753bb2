from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        # notifications.services call the registry when a notification is sent or amended;
        # incidents sit above notifications and cannot be called from there directly.
        from notifications import risk

        from .flags import evaluate_notification

        risk.register("incident_party", evaluate_notification)
