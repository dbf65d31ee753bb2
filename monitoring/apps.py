from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring: estimates and risk flags"

    def ready(self):
        # notifications.services call the registry when a notification is sent or amended;
        # this app sits above notifications and cannot be called from there directly.
        from notifications import risk
        from notifications.models import RiskKind

        from . import flags

        risk.register_assessor(RiskKind.ALR_EXCEEDED, flags.assess_alr, flags.describe_alr)
        risk.register_assessor(RiskKind.UNUSUAL_QUANTITY, flags.assess_unusual_quantity, flags.describe_unusual)
        risk.register_assessor(RiskKind.NEW_IMPORTER, flags.assess_new_importer, flags.describe_new_importer)
        risk.register_assessor(RiskKind.PRIOR_OBJECTION, flags.assess_prior_objection, flags.describe_prior_objection)
