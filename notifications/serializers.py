"""Serializers of the REST API (docs/api.md: field names are fixed).

Input serializers check shape only (types, lengths, choices) and are turned into the
services' dataclasses; every domain rule lives in notifications.services, whose field-keyed
errors use the same dotted names as these (``items.0.quantity``, ``exporter.name``).
Output serializers render a notification for a caller already allowed to see it."""

from dataclasses import replace

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from web.dates import validate_typed_date

from . import risk
from .models import EventKind, Form, ModeOfTransport, NotificationKind, ResponseKind, RiskKind, Status, Unit
from .services import ItemData, NotificationData, PartyData, served_attachment

# --- input ----------------------------------------------------------------------------


class PartyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, help_text="Name of the company.")
    address = serializers.CharField(max_length=2000, allow_blank=True, help_text="Full postal address.")
    licence_number = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True, help_text="Licence or registration number."
    )


class OptionalPartyInputSerializer(PartyInputSerializer):
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    address = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ItemInputSerializer(serializers.Serializer):
    substance = serializers.CharField(
        max_length=80,
        allow_null=True,
        allow_blank=True,
        help_text="Substance `code` from GET /api/v1/substances/; null for a chemical outside the catalogue "
        "(voluntary notifications only: give `chemical_name`, and `cas_number` where it has one).",
    )
    chemical_name = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="A chemical outside the catalogue (voluntary notifications only), when `substance` is null.",
    )
    cas_number = serializers.CharField(
        max_length=12,
        required=False,
        default="",
        allow_blank=True,
        help_text="CAS registry number NNNNNNN-NN-N of a chemical outside the catalogue; the check digit is verified.",
    )
    quantity = serializers.DecimalField(
        max_digits=15, decimal_places=3, help_text='Net quantity as a decimal string, e.g. "250.000".'
    )
    unit = serializers.ChoiceField(choices=Unit.choices)
    form = serializers.ChoiceField(choices=Form.choices, required=False, default=Form.SUBSTANCE)
    trade_name = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required for preparations and mixtures.",
    )
    concentration_percent = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        allow_null=True,
        default=None,
        help_text="Concentration of the substance in per cent; required for preparations and mixtures.",
    )
    packages = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text='Number and kind, e.g. "10 drums".'
    )


class ShipmentInputSerializer(serializers.Serializer):
    mode_of_transport = serializers.ChoiceField(choices=ModeOfTransport.choices)
    point_of_exit = serializers.CharField(max_length=200, allow_blank=True)
    point_of_entry = serializers.CharField(max_length=200, allow_blank=True)
    expected_dispatch = serializers.DateField(
        help_text="Expected date of dispatch; not in the past.", validators=[validate_typed_date]
    )
    carrier = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class NotificationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=NotificationKind.choices,
        required=False,
        default=NotificationKind.SCHEDULED,
        help_text="`scheduled` (Table I or II, the default) or `voluntary` (a suspicious consignment of a "
        "non-scheduled chemical: special-surveillance substances or chemicals outside the catalogue).",
    )
    suspicion = serializers.CharField(
        max_length=5000,
        required=False,
        default="",
        allow_blank=True,
        help_text="Why the consignment is suspicious; required for a voluntary notification.",
    )
    national_reference = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True, help_text="Your own reference for the file."
    )
    importing_country = serializers.CharField(
        max_length=2, help_text="ISO 3166-1 alpha-2 code of the importing country."
    )
    transit_countries = serializers.ListField(
        child=serializers.CharField(max_length=2),
        required=False,
        default=list,
        max_length=30,
        help_text="Alpha-2 codes of the countries of transit, in route order.",
    )
    exporter = PartyInputSerializer()
    importer = PartyInputSerializer()
    consignee = OptionalPartyInputSerializer(required=False, help_text="The ultimate consignee, if not the importer.")
    broker = OptionalPartyInputSerializer(required=False, help_text="A broker or intermediary, if any.")
    items = ItemInputSerializer(many=True, max_length=100, help_text="At least one item.")
    shipment = ShipmentInputSerializer()
    import_authorization_number = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    end_use = serializers.CharField(max_length=5000, allow_blank=True, help_text="The declared end use.")
    reply_due = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        validators=[validate_typed_date],
        help_text="Without it, the importing country's declared reply period applies (an earlier date is a 400); "
        "a voluntary notification without it has no deadline: it is never chased nor counted in timeliness.",
    )
    draft = serializers.BooleanField(
        required=False, default=False, help_text="True: save without sending; POST .../submit/ sends it."
    )

    def to_data(self) -> NotificationData:
        v = self.validated_data
        shipment = v["shipment"]
        return NotificationData(
            importing_country=v["importing_country"],
            exporter=PartyData(**v["exporter"]),
            importer=PartyData(**v["importer"]),
            consignee=PartyData(**v.get("consignee") or {}),
            broker=PartyData(**v.get("broker") or {}),
            items=[item_data(item) for item in v["items"]],
            point_of_exit=shipment["point_of_exit"],
            point_of_entry=shipment["point_of_entry"],
            mode_of_transport=shipment["mode_of_transport"],
            expected_dispatch=shipment["expected_dispatch"],
            carrier=shipment.get("carrier", ""),
            end_use=v["end_use"],
            transit_countries=list(v.get("transit_countries") or []),
            import_authorization_number=v.get("import_authorization_number", ""),
            national_reference=v.get("national_reference", ""),
            reply_due=v.get("reply_due"),
            kind=v.get("kind", NotificationKind.SCHEDULED),
            suspicion=v.get("suspicion", ""),
        )


def item_data(item: dict) -> ItemData:
    return ItemData(**{**item, "substance": item.get("substance") or ""})


class PartyPatchSerializer(PartyInputSerializer):
    """A party in a PATCH: the keys sent change, the others stay."""

    name = serializers.CharField(max_length=200, allow_blank=True, required=False, help_text="Name of the company.")
    address = serializers.CharField(max_length=2000, allow_blank=True, required=False, help_text="Full postal address.")
    licence_number = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ShipmentPatchSerializer(ShipmentInputSerializer):
    mode_of_transport = serializers.ChoiceField(choices=ModeOfTransport.choices, required=False)
    point_of_exit = serializers.CharField(max_length=200, allow_blank=True, required=False)
    point_of_entry = serializers.CharField(max_length=200, allow_blank=True, required=False)
    expected_dispatch = serializers.DateField(
        required=False, help_text="Expected date of dispatch; not in the past.", validators=[validate_typed_date]
    )
    carrier = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DraftPatchInputSerializer(NotificationInputSerializer):
    """PATCH of a draft: only the fields sent change. A party or ``shipment`` object is
    merged key by key; ``items`` and ``transit_countries``, when sent, replace the whole
    list (each item complete). Validated with ``partial=True``; ``draft`` is not a field
    here (POST .../submit/ sends)."""

    draft = None
    exporter = PartyPatchSerializer(required=False)
    importer = PartyPatchSerializer(required=False)
    consignee = PartyPatchSerializer(required=False, help_text="The ultimate consignee, if not the importer.")
    broker = PartyPatchSerializer(required=False, help_text="A broker or intermediary, if any.")
    shipment = ShipmentPatchSerializer(required=False)
    # No defaults in a PATCH: a field not sent is unchanged, never reset (and the schema
    # must not say it defaults to "", as a TypeScript check of it showed).
    national_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    import_authorization_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    transit_countries = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, max_length=30, help_text="The whole route, in order."
    )
    reply_due = serializers.DateField(required=False, allow_null=True, validators=[validate_typed_date])
    kind = serializers.ChoiceField(choices=NotificationKind.choices, required=False)
    suspicion = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    items = ItemInputSerializer(many=True, required=False, max_length=100, help_text="Every item, each complete.")

    def validate_items(self, value):
        # Under partial=True DRF would accept an item without its substance: an item is
        # always sent whole, so the list is checked again, not partially.
        whole = ItemInputSerializer(data=self.initial_data.get("items"), many=True)
        if not whole.is_valid():
            raise serializers.ValidationError(whole.errors)
        return whole.validated_data

    def merged_onto(self, stored: NotificationData) -> NotificationData:
        v = self.validated_data
        merged = replace(stored)
        for key in ("exporter", "importer", "consignee", "broker"):
            if key in v:
                setattr(merged, key, replace(getattr(stored, key), **v[key]))
        for key, value in v.get("shipment", {}).items():
            setattr(merged, key, value)
        if "items" in v:
            merged.items = [item_data(item) for item in v["items"]]
        for key in (
            "importing_country",
            "transit_countries",
            "import_authorization_number",
            "national_reference",
            "end_use",
            "reply_due",
            "kind",
            "suspicion",
        ):
            if key in v:
                setattr(merged, key, list(v[key]) if key == "transit_countries" else v[key])
        return merged


# The services' error keys for fields that the API nests under "shipment".
SERVICE_ERROR_KEYS = {
    "point_of_exit": "shipment.point_of_exit",
    "point_of_entry": "shipment.point_of_entry",
    "mode_of_transport": "shipment.mode_of_transport",
    "expected_dispatch": "shipment.expected_dispatch",
    "carrier": "shipment.carrier",
}


class RespondInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[
            (ResponseKind.NO_OBJECTION.value, ResponseKind.NO_OBJECTION.label),
            (ResponseKind.OBJECTION.value, ResponseKind.OBJECTION.label),
            (ResponseKind.INFORMATION_REQUESTED.value, ResponseKind.INFORMATION_REQUESTED.label),
        ],
        help_text="`no_objection` and `objection` are final; `information_requested` stops the reply clock.",
    )
    comment = serializers.CharField(
        max_length=5000,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required for `objection` (the reasons) and `information_requested` (the question).",
    )


class ProvideInformationInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, allow_blank=True, help_text="The answer to the question.")


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, allow_blank=True, help_text="Why the notification is withdrawn.")


# --- output ---------------------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    name = serializers.CharField()
    address = serializers.CharField()
    licence_number = serializers.CharField()


# A draft may lack what only sending needs (issue 18): those fields are null (or "") in a
# draft, never in a sent notification.
DRAFT_ONLY_EMPTY = "Null in a draft not complete yet; always given once sent."


class ItemSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="1, 2, ... in the order filed.")
    substance = serializers.CharField(
        source="substance.code", allow_null=True, help_text=f"Substance code. {DRAFT_ONLY_EMPTY}"
    )
    substance_name = serializers.CharField(source="substance.name", allow_null=True, help_text=DRAFT_ONLY_EMPTY)
    chemical_name = serializers.CharField(help_text="A chemical outside the catalogue (`substance` null); else empty.")
    cas_number = serializers.CharField(help_text="Its CAS number, when given; else empty.")
    quantity = serializers.DecimalField(
        max_digits=15, decimal_places=3, coerce_to_string=True, allow_null=True, help_text=DRAFT_ONLY_EMPTY
    )
    unit = serializers.ChoiceField(choices=Unit.choices, allow_blank=True)
    form = serializers.ChoiceField(choices=Form.choices)
    trade_name = serializers.CharField()
    concentration_percent = serializers.DecimalField(
        max_digits=6, decimal_places=3, coerce_to_string=True, allow_null=True
    )
    packages = serializers.CharField()


class ShipmentSerializer(serializers.Serializer):
    mode_of_transport = serializers.ChoiceField(choices=ModeOfTransport.choices, allow_blank=True)
    point_of_exit = serializers.CharField()
    point_of_entry = serializers.CharField()
    expected_dispatch = serializers.DateField(allow_null=True, help_text=DRAFT_ONLY_EMPTY)
    carrier = serializers.CharField()


class ResponseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ResponseKind.choices,
        help_text="A reply of the importing authority, or `information_provided`: the exporter's answer.",
    )
    comment = serializers.CharField()
    authority = serializers.CharField(source="authority.code", help_text="Code of the authority that wrote it.")
    created_at = serializers.DateTimeField()


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="What happened: created, submitted, acknowledged, replied, ...")
    label = serializers.CharField(source="get_kind_display", help_text="The same, in words.")
    at = serializers.DateTimeField()
    authority = serializers.CharField(
        source="actor_authority.code", allow_null=True, default=None, help_text="Who acted; null for the portal."
    )
    detail = serializers.SerializerMethodField(
        help_text="What raised it, with the numbers, in the language of `Accept-Language` (the kind never changes)."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_detail(self, signal) -> str:
        return risk.detail_of(signal)


class VisibleEventsSerializer(serializers.ListSerializer):
    """The timeline as the caller's authority may see it (access.visible_events): read from
    the prefetched events (prefetch_detail), so it costs no query per event."""

    def get_attribute(self, instance):
        from .access import parties_of, visible_events

        request = self.context.get("request")
        parties = parties_of(request.user, instance) if request else set()
        return visible_events(parties, list(super().get_attribute(instance).all()))


class RiskFlagSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=RiskKind.choices,
        help_text='One of the contract\'s flags (docs/api.md, "Risk flags"); `detail` says what raised it, with the '
        "numbers.",
    )
    raised_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(
        allow_null=True, help_text="When what raised it was resolved (a late reply, the arrival, an explanation)."
    )
    detail = serializers.CharField()


def _party(prefix):
    @extend_schema_field(PartySerializer)
    def get(self, obj):
        return {
            "name": getattr(obj, f"{prefix}_name"),
            "address": getattr(obj, f"{prefix}_address"),
            "licence_number": getattr(obj, f"{prefix}_licence_number"),
        }

    return get


class ShippedItemInputSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="The item's `position` (1, 2, ...).")
    quantity = serializers.DecimalField(
        max_digits=15, decimal_places=3, min_value=0, help_text='In the item\'s unit, e.g. "200.000"; 0 if none.'
    )


class DispatchInputSerializer(serializers.Serializer):
    dispatched_on = serializers.DateField(validators=[validate_typed_date], help_text="The day the consignment left.")
    items = ShippedItemInputSerializer(
        many=True, max_length=100, help_text="The quantity shipped of every item, never above the notified one."
    )


class ArrivalInputSerializer(serializers.Serializer):
    arrived_on = serializers.DateField(validators=[validate_typed_date], help_text="The day the consignment arrived.")
    items = ShippedItemInputSerializer(many=True, max_length=100, help_text="The quantity received of every item.")
    comment = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)


class ExplainDiscrepancyInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, help_text="What explains the difference in quantities.")


class ShipmentStageSerializer(serializers.Serializer):
    """A dispatch or an arrival: its date, when and by whom it was recorded, per item."""

    on = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    items = serializers.ListField(
        child=inline_serializer(
            name="ShippedItem", fields={"position": serializers.IntegerField(), "quantity": serializers.CharField()}
        )
    )


class ArrivalSerializer(ShipmentStageSerializer):
    comment = serializers.CharField()


def _nullable_object(description: str, **extra_properties) -> dict:
    """An object or null, inline. Written out because drf-spectacular's nullable $ref
    (allOf + nullable, no type) is not nullable under OpenAPI 3.0.3, and with a type added
    openapi-python-client no longer sees the null (both found by the schema tests)."""
    properties = {
        "on": {"type": "string", "format": "date"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"position": {"type": "integer"}, "quantity": {"type": "string"}},
                "required": ["position", "quantity"],
            },
        },
        **extra_properties,
    }
    return {
        "type": "object",
        "nullable": True,
        "description": description,
        "properties": properties,
        "required": list(properties),
    }


class SuspendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the consignment is suspended pending verification.")


class LiftSuspensionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, help_text="What the verification found.")


class SuspensionSerializer(serializers.Serializer):
    by_country = serializers.CharField(source="country_id", help_text="ISO 3166-1 alpha-2 of the suspending country.")
    by_authority = serializers.CharField(source="authority.code", help_text="The suspending authority's code.")
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)
    lift_comment = serializers.CharField(help_text="Why it was lifted; empty while in force.")


class AmendmentSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.SerializerMethodField(help_text="The code of the authority that amended it.")
    changes = serializers.SerializerMethodField(
        help_text="Each changed field, named as in the body (`shipment.point_of_entry`, `items.0.quantity`), with "
        '`["old", "new"]`.'
    )

    def get_by(self, obj) -> str | None:
        return obj.actor_authority.code if obj.actor_authority else None

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "items": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            },
        }
    )
    def get_changes(self, obj):
        return {SERVICE_ERROR_KEYS.get(key, key): values for key, values in (obj.data or {}).get("changes", {}).items()}


class NotificationSummarySerializer(serializers.Serializer):
    """One row of the list: enough to decide whether to fetch the notification."""

    reference = serializers.CharField(help_text="`<exporting country>-<year>-<6 digits>`, e.g. DE-2026-000042.")
    url = serializers.SerializerMethodField(help_text="The notification in this API.")
    status = serializers.ChoiceField(choices=Status.choices)
    kind = serializers.ChoiceField(choices=NotificationKind.choices, help_text="`scheduled` or `voluntary`.")
    version = serializers.IntegerField(help_text="Bumped by every change; the ETag is built from it.")
    exporting_authority = serializers.CharField(source="exporting_authority.code")
    exporting_country = serializers.CharField(source="exporting_country_id")
    importing_country = serializers.CharField(
        source="importing_country_id", allow_null=True, help_text=DRAFT_ONLY_EMPTY
    )
    importing_authority = serializers.CharField(
        source="importing_authority.code", allow_null=True, help_text=DRAFT_ONLY_EMPTY
    )
    national_reference = serializers.CharField(help_text="The exporting authority's own reference.")
    submitted_at = serializers.DateTimeField(allow_null=True)
    reply_due = serializers.DateField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True, help_text="When the final reply was given.")
    overdue = serializers.SerializerMethodField(
        help_text="Awaiting a reply after the due date (a request for information stops the clock)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="Last change; poll with `updated_since`.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        request = self.context.get("request")
        path = f"/api/v1/notifications/{obj.reference}/"
        return request.build_absolute_uri(path) if request else path

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(self.context["now"])


class NotificationSerializer(NotificationSummarySerializer):
    """The whole notification, as its parties see it."""

    transit_countries = serializers.SerializerMethodField(help_text="Alpha-2 codes, in route order.")
    exporter = serializers.SerializerMethodField()
    importer = serializers.SerializerMethodField()
    consignee = serializers.SerializerMethodField()
    broker = serializers.SerializerMethodField()
    items = ItemSerializer(many=True)
    shipment = serializers.SerializerMethodField()
    import_authorization_number = serializers.CharField()
    end_use = serializers.CharField()
    suspicion = serializers.CharField(help_text="Why a voluntary notification was sent; empty for a scheduled one.")
    draft = serializers.SerializerMethodField(help_text="True while not sent.")
    information_requested_at = serializers.DateTimeField(
        allow_null=True, help_text="When the open request for information was made; null if none is open."
    )
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    risk_flags = RiskFlagSerializer(many=True, source="risk_signals")
    dispatch = serializers.SerializerMethodField(
        help_text="The dispatch the exporting authority recorded (date, quantity shipped per item); null until then."
    )
    arrival = serializers.SerializerMethodField(
        help_text="The arrival the importing authority confirmed (date, quantity received per item); null until then."
    )
    suspension = serializers.SerializerMethodField(
        help_text="The suspension in force (the consignment must not be shipped until it is lifted), or null."
    )
    suspensions = SuspensionSerializer(many=True, help_text="Every suspension, lifted or not, oldest first.")
    amendments = serializers.SerializerMethodField(
        help_text="The amendments made since sending, oldest first: when, by which authority, and each changed "
        "field's old and new value."
    )
    responses = ResponseSerializer(many=True)
    events = VisibleEventsSerializer(
        child=EventSerializer(),
        help_text="The timeline, oldest first: the events your authority may see (INCB's follow-ups are INCB's; "
        "shares are the exporting authority's and INCB's).",
    )
    allowed_actions = serializers.SerializerMethodField(
        help_text="What the caller may do now: submit, acknowledge, no_objection, objection, information_requested, "
        "provide_information, withdraw, ..."
    )

    def get_transit_countries(self, obj) -> list[str]:
        return [transit.country_id for transit in obj.transits.all()]

    get_exporter = _party("exporter")
    get_importer = _party("importer")
    get_consignee = _party("consignee")
    get_broker = _party("broker")

    @extend_schema_field(ShipmentSerializer)
    def get_shipment(self, obj):
        return ShipmentSerializer(obj).data

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "The suspension in force (the consignment must not be shipped until it is lifted), or null.",
            "properties": {
                "by_country": {"type": "string"},
                "by_authority": {"type": "string"},
                "reason": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "lifted_at": {"type": "string", "format": "date-time", "nullable": True},
                "lift_comment": {"type": "string"},
            },
            "required": ["by_country", "by_authority", "reason", "at", "lifted_at", "lift_comment"],
        }
    )
    def get_suspension(self, obj):
        current = next((s for s in obj.suspensions.all() if s.lifted_at is None), None)
        return SuspensionSerializer(current).data if current else None

    @extend_schema_field(_nullable_object("The dispatch: its date, when it was recorded, per item; null until then."))
    def get_dispatch(self, obj):
        if obj.dispatched_on is None:
            return None
        items = [{"position": i.position, "quantity": f"{i.shipped_quantity:.3f}"} for i in obj.items.all()]
        return {"on": obj.dispatched_on, "recorded_at": obj.dispatch_recorded_at, "items": items}

    @extend_schema_field(
        _nullable_object(
            "The arrival: its date, when it was recorded, per item; null until then.", comment={"type": "string"}
        )
    )
    def get_arrival(self, obj):
        if obj.arrived_on is None:
            return None
        items = [{"position": i.position, "quantity": f"{i.received_quantity:.3f}"} for i in obj.items.all()]
        return {
            "on": obj.arrived_on,
            "recorded_at": obj.arrival_recorded_at,
            "items": items,
            "comment": obj.arrival_comment,
        }

    @extend_schema_field(AmendmentSerializer(many=True))
    def get_amendments(self, obj):
        events = [event for event in obj.events.all() if event.kind == EventKind.AMENDED]
        return AmendmentSerializer(events, many=True).data

    def get_draft(self, obj) -> bool:
        return obj.status == Status.DRAFT

    def get_allowed_actions(self, obj) -> list[str]:
        from .access import allowed_actions

        request = self.context.get("request")
        return (
            [str(action) for action in allowed_actions(request.user, obj, now=self.context.get("now"))]
            if request
            else []
        )


class ShareInputSerializer(serializers.Serializer):
    authority = serializers.CharField(
        max_length=50, help_text="The code of the competent authority to share with, e.g. `fr-ansm`."
    )


class ShareSerializer(serializers.Serializer):
    """An authority the notification is shared with (read only, revocable)."""

    authority = serializers.CharField(source="code", help_text="The authority's code.")
    name = serializers.CharField()
    country = serializers.CharField(source="country_id", help_text="ISO 3166-1 alpha-2.")


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PDF, PNG or JPEG (recognised by its content, not its name).")


class AttachmentSerializer(serializers.Serializer):
    """A document attached by the exporting authority; its content is at ``url``."""

    token = serializers.CharField(help_text="The attachment's id in its URL.")
    name = serializers.SerializerMethodField(help_text="The name it is served under (cleaned, true extension).")
    content_type = serializers.SerializerMethodField(help_text="Recognised from the content: PDF, PNG or JPEG.")
    size = serializers.IntegerField(help_text="In bytes.")
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField(help_text="GET it (same token and scope) for the file itself.")

    def get_name(self, obj) -> str:
        return served_attachment(obj)[0]

    def get_content_type(self, obj) -> str:
        return served_attachment(obj)[1]

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        path = f"/api/v1/notifications/{self.context['reference']}/attachments/{obj.token}/"
        return request.build_absolute_uri(path) if request else path


def prefetch_detail(queryset):
    return queryset.select_related(
        "exporting_authority", "importing_authority", "exporting_country", "importing_country"
    ).prefetch_related(
        "transits",
        "items__substance",
        "risk_signals",
        "responses__authority",
        "events__actor_authority",
        "suspensions__authority",
    )


def prefetch_summary(queryset):
    return queryset.select_related("exporting_authority", "importing_authority")
