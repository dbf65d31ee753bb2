"""The incidents' REST shapes: input (checked for shape only; the rules are the
services') and output. Field names are the contract's ("Incidents", docs/api.md)."""

from rest_framework import serializers

from . import services
from .models import Incident, IncidentKind, PartyRole, Unit, Visibility


class IncidentSubstanceInputSerializer(serializers.Serializer):
    substance = serializers.CharField(
        allow_null=True,
        required=False,
        default=None,
        help_text="A catalogue code (`ephedrine`); null for a named chemical.",
    )
    chemical_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    cas_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20,
        help_text="NNNNNNN-NN-N; the check digit is verified.",
    )
    quantity = serializers.DecimalField(
        max_digits=15, decimal_places=3, required=False, allow_null=True, default=None, coerce_to_string=True
    )
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, allow_blank=True, default="")


class IncidentPartyInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=PartyRole.choices)
    name = serializers.CharField(
        allow_blank=True, max_length=200, help_text="Required: a party without a name is a 400."
    )
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    country = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None, max_length=2)


class IncidentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    occurred_on = serializers.DateField(help_text="The day it happened; not in the future.")
    country = serializers.CharField(
        required=False, max_length=2, help_text="The reporting country: your authority's (the default)."
    )
    description = serializers.CharField(allow_blank=True, max_length=20000)
    modus_operandi = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    substances = IncidentSubstanceInputSerializer(many=True, required=False, default=list)
    parties = IncidentPartyInputSerializer(many=True, required=False, default=list)
    route = serializers.ListField(
        child=serializers.CharField(max_length=2),
        required=False,
        default=list,
        help_text="Alpha-2 codes in order; the same country twice in a row is a 400.",
    )
    related_notifications = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text="References of notifications you can see; any other is a 400, as for one that does not exist.",
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.CONCERNED)
    shared_with = serializers.ListField(child=serializers.CharField(max_length=2), required=False, default=list)

    def to_data(self, base: services.IncidentData | None = None) -> services.IncidentData:
        """The body as the services' IncidentData; for a PATCH, merged onto ``base``
        (the fields sent replace the stored ones; lists as a whole)."""
        values = self.validated_data
        data = base or services.IncidentData()
        simple = ("kind", "occurred_on", "country", "description", "modus_operandi", "visibility")
        for name in simple:
            if name in values:
                setattr(data, name, values[name])
        for name in ("route", "related_notifications", "shared_with"):
            if name in values:
                setattr(data, name, list(values[name]))
        if "substances" in values:
            data.substances = [services.SubstanceData(**dict(item)) for item in values["substances"]]
        if "parties" in values:
            data.parties = [services.PartyData(**dict(item)) for item in values["parties"]]
        return data


class IncidentPatchSerializer(IncidentInputSerializer):
    """Every field optional: only those sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class IncidentSubstanceSerializer(serializers.Serializer):
    substance = serializers.CharField(source="substance.code", allow_null=True, default=None)
    chemical_name = serializers.CharField()
    cas_number = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=15, decimal_places=3, allow_null=True)
    unit = serializers.CharField()


class IncidentPartySerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=PartyRole.choices)
    name = serializers.CharField()
    address = serializers.CharField()
    country = serializers.CharField(source="country_id", allow_null=True)


class IncidentHistoryEntrySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`reported`, `amended` or `notifications_flagged`.")
    at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_authority.name", allow_null=True, default=None)
    detail = serializers.CharField()
    changes = serializers.DictField(
        source="data.changes",
        default=dict,
        child=serializers.ListField(),
        help_text="For an amendment: field -> [before, after].",
    )


class IncidentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="incident-detail", lookup_field="reference")
    country = serializers.CharField(source="country_id", help_text="The reporting country.")
    authority = serializers.CharField(source="authority.name", help_text="The reporting authority.")
    substances = IncidentSubstanceSerializer(many=True)
    parties = IncidentPartySerializer(many=True)
    route = serializers.SerializerMethodField(help_text="Alpha-2 codes in order.")
    related_notifications = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()
    history = IncidentHistoryEntrySerializer(source="events", many=True, help_text="Oldest first.")

    class Meta:
        model = Incident
        fields = [
            "url",
            "reference",
            "version",
            "kind",
            "occurred_on",
            "country",
            "authority",
            "description",
            "modus_operandi",
            "substances",
            "parties",
            "route",
            "related_notifications",
            "visibility",
            "shared_with",
            "created_at",
            "updated_at",
            "history",
        ]

    def get_route(self, incident) -> list[str]:
        return [stop.country_id for stop in incident.route_stops.all()]

    def get_related_notifications(self, incident) -> list[str]:
        return sorted(n.reference for n in incident.related_notifications.all())

    def get_shared_with(self, incident) -> list[str]:
        return sorted(c.code for c in incident.shared_with.all())


class IncidentMatchSerializer(serializers.Serializer):
    notification = serializers.CharField(help_text="The notification's reference.")
    reason = serializers.ChoiceField(choices=[("party", "party"), ("route_and_substance", "route_and_substance")])
    party_role = serializers.CharField(
        allow_null=True, help_text="Which party of the notification matched (reason `party`)."
    )
    matched_name = serializers.CharField(allow_null=True, help_text="The notification's spelling of the name.")
    incident_party = serializers.CharField(allow_null=True, help_text="The incident's spelling of the name.")
    score = serializers.FloatField(help_text="0 to 1; best first.")


def prefetch(queryset):
    return queryset.select_related("authority").prefetch_related(
        "substances__substance",
        "parties",
        "route_stops",
        "related_notifications",
        "shared_with",
        "events__actor_authority",
    )
