"""REST API v1 for notifications: thin adapters over the services.

Each view checks access through notifications.access (never a query of its own), checks
the shape of the body with an input serializer, calls the one service function, and
renders the result. Every POST goes through api.idempotency. The paths, field names,
statuses and status codes are the contract in docs/api.md."""

from contextlib import contextmanager
from datetime import UTC

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import idempotency
from api.conditional import expected_version, required_version
from api.errors import Conflict, PreconditionFailed
from api.permissions import HasRequiredScope
from api.responses import (
    IDEMPOTENCY_KEY,
    R400,
    R401,
    R403,
    R404,
    R409,
    R412,
    R413,
    R415,
    R422,
    R428,
    EmptyInputSerializer,
    validated,
)
from authorities.models import Authority
from web.dates import in_range, out_of_range_message

from . import access, services
from .models import Action, EventKind, Notification, NotificationKind, RiskKind, RiskSignal, Status
from .serializers import (
    SERVICE_ERROR_KEYS,
    ArrivalInputSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DispatchInputSerializer,
    DraftPatchInputSerializer,
    ExplainDiscrepancyInputSerializer,
    LiftSuspensionInputSerializer,
    NotificationInputSerializer,
    NotificationSerializer,
    NotificationSummarySerializer,
    ProvideInformationInputSerializer,
    RespondInputSerializer,
    ShareInputSerializer,
    ShareSerializer,
    SuspendInputSerializer,
    WithdrawInputSerializer,
    prefetch_detail,
    prefetch_summary,
)

READ = "notifications:read"
WRITE = "notifications:write"
RESPOND = "notifications:respond"


# --- shared pieces --------------------------------------------------------------------


@contextmanager
def service_errors():
    """The services' exceptions as API errors: 409, 412, and field errors named as in the body."""
    try:
        yield
    except services.Conflict as error:
        raise Conflict(str(error) or None) from error
    except services.StaleVersion as error:
        raise PreconditionFailed() from error
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise DjangoValidationError(
                {SERVICE_ERROR_KEYS.get(field, field): messages for field, messages in error.error_dict.items()}
            ) from error
        raise


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag you last read. The action is done only if the notification has not changed since; "
    "otherwise 412.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The notification's version, for If-Match.",
)
REFERENCE = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The notification's reference, e.g. DE-2026-000042.",
)


def action_schema(summary, description, request, scope, errors=(400, 401, 403, 404, 409, 412, 422), examples=()):
    responses = {200: NotificationSerializer}
    codes = {400: R400, 401: R401, 403: R403, 404: R404, 409: R409, 412: R412, 422: R422}
    responses.update({code: codes[code] for code in errors})
    return extend_schema(
        summary=summary,
        description=f"{description}\n\nScope `{scope}`. Returns the updated notification with its new `ETag`.",
        request=request,
        responses=responses,
        parameters=[REFERENCE, IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        tags=["notifications"],
        examples=list(examples),
    )


def _shipped(data):
    return [services.ShippedQuantity(row["position"], row["quantity"]) for row in data["items"]]


class FileTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is too large."
    default_code = "file_too_large"


# --- notifications --------------------------------------------------------------------


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC before it reaches the database: PostgreSQL
    refuses offsets beyond ±15:59 that Python accepts (found by schemathesis)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        if not in_range(parsed):
            raise forms.ValidationError(out_of_range_message())
        return parsed.astimezone(UTC)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class NotificationFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        choices=[
            (access.Party.EXPORTING, "exporting"),
            (access.Party.IMPORTING, "importing"),
            (access.Party.IMPORTING_COUNTRY, "importing_country"),
            (access.Party.TRANSIT, "transit"),
            (access.Party.SHARED, "shared"),
        ],
        method="filter_role",
        label="Only notifications your authority is party to in this role.",
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, label="Only notifications in this status.")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="true: awaiting a reply after the due date; false: the others."
    )
    importing_country = django_filters.CharFilter(method="filter_country", label="Alpha-2 code.")
    exporting_country = django_filters.CharFilter(method="filter_country", label="Alpha-2 code.")
    kind = django_filters.ChoiceFilter(
        choices=NotificationKind.choices, label="`scheduled` (Table I or II) or `voluntary` (non-scheduled)."
    )
    risk = django_filters.ChoiceFilter(
        choices=RiskKind.choices,
        method="filter_risk",
        label="Only notifications carrying this risk flag, not yet resolved.",
    )
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only notifications changed at or after this instant (ISO 8601 with offset). Poll with the "
        "largest `updated_at` you have seen.",
    )

    class Meta:
        model = Notification
        fields = [
            "role",
            "status",
            "kind",
            "overdue",
            "importing_country",
            "exporting_country",
            "risk",
            "updated_since",
        ]

    def filter_role(self, queryset, name, value):
        # Narrowed by the access module, never here: a role is a way of being a party.
        return queryset & access.visible_notifications(self.request.user, role=value)

    def filter_overdue(self, queryset, name, value):
        # The same rule as Notification.is_overdue.
        late = Q(status=Status.AWAITING_REPLY, reply_due__lt=timezone.now().date())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_risk(self, queryset, name, value):
        # EXISTS, not a join: a notification appears once, and the cursor's order holds.
        flagged = RiskSignal.objects.filter(notification=OuterRef("pk"), kind=value, resolved_at__isnull=True)
        return queryset.filter(Exists(flagged))

    def filter_country(self, queryset, name, value):
        return queryset.filter(**{f"{name}_id": value.strip().upper()})


class NotificationPagination(CursorPagination):
    """Most recently changed first; a cursor stays valid while rows change."""

    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        # DRF's own examples end in a stray quote and name another API's path (issue 19).
        described = super().get_paginated_response_schema(schema)
        described["properties"]["next"]["example"] = f"{settings.SITE_URL}/api/v1/notifications/?cursor=cD0yMDI2LTEy"
        described["properties"]["previous"]["example"] = f"{settings.SITE_URL}/api/v1/notifications/?cursor=cj0xJnA9"
        return described


NOTIFICATION_EXAMPLE = OpenApiExample(
    "A notification",
    request_only=True,
    value={
        "national_reference": "EXP-2026-0042",
        "importing_country": "GH",
        "transit_countries": ["NL"],
        "exporter": {"name": "Chemie Export GmbH", "address": "Industriestr. 1, Hamburg", "licence_number": "DE-1"},
        "importer": {"name": "Accra Pharma Ltd", "address": "12 Ring Road, Accra", "licence_number": "GH-7"},
        "consignee": {"name": "", "address": ""},
        "items": [
            {
                "substance": "ephedrine",
                "quantity": "250.000",
                "unit": "kg",
                "form": "substance",
                "trade_name": "",
                "concentration_percent": None,
                "packages": "10 drums",
            }
        ],
        "shipment": {
            "mode_of_transport": "sea",
            "point_of_exit": "Hamburg",
            "point_of_entry": "Tema",
            "expected_dispatch": "2026-12-01",
            "carrier": "",
        },
        "import_authorization_number": "",
        "end_use": "Manufacture of cough syrup",
        "reply_due": "2026-12-15",
        "draft": False,
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List notifications",
        description="The notifications your authority is party to (exporting, importing, transit, or shared "
        "with it); INCB sees every sent notification. Most recently changed first, cursor-paginated (follow "
        "`next`). Scope `notifications:read`.",
        responses={200: NotificationSummarySerializer(many=True), 400: R400, 401: R401, 403: R403},
        tags=["notifications"],
    ),
    retrieve=extend_schema(
        summary="One notification",
        description="Every field of the notification, its replies, its timeline (oldest first) and its risk "
        "flags. Sends an `ETag` to use in `If-Match`. Scope `notifications:read`.",
        parameters=[REFERENCE, ETAG],
        responses={200: NotificationSerializer, 401: R401, 403: R403, 404: R404},
        tags=["notifications"],
    ),
    create=extend_schema(
        summary="File a notification",
        description="File a pre-export notification for your authority: sent at once, or saved as a draft with "
        '`"draft": true`. Without `reply_due` the importing country\'s declared reply period applies; an '
        "earlier date is a 400. Scope `notifications:write`; only officers of a national authority (and its "
        "licensing systems).",
        request=NotificationInputSerializer,
        parameters=[IDEMPOTENCY_KEY, ETAG],
        responses={201: NotificationSerializer, 400: R400, 401: R401, 403: R403, 409: R409, 422: R422},
        examples=[NOTIFICATION_EXAMPLE],
        tags=["notifications"],
    ),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes = {
        "list": [READ],
        "retrieve": [READ],
        "create": [WRITE],
        "submit": [WRITE],
        "withdraw": [WRITE],
        "provide_information": [WRITE],
        "acknowledge": [RESPOND],
        "respond": [RESPOND],
        "partial_update": [WRITE],
        "record_dispatch": [WRITE],
        "confirm_arrival": [RESPOND],
        "explain_discrepancy": [WRITE],
        "suspend": [WRITE],
        "lift_suspension": [WRITE],
        "destroy": [WRITE],
        "shares": [READ],
        "add_share": [WRITE],
        "revoke_share": [WRITE],
        "attachments": [READ],
        "upload_attachment": [WRITE],
        "attachment": [READ],
    }
    serializer_class = NotificationSummarySerializer
    pagination_class = NotificationPagination
    filterset_class = NotificationFilter
    lookup_field = "reference"
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        # Always the visibility function: DRF filters neither lists nor creation for us.
        return prefetch_summary(access.visible_notifications(self.request.user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _detail(self, notification, *, code=status.HTTP_200_OK, created=False) -> Response:
        notification = prefetch_detail(Notification.objects.filter(pk=notification.pk)).get()
        body = NotificationSerializer(notification, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        response["ETag"] = notification.etag
        if created:
            response["Location"] = body["url"]
        return response

    def retrieve(self, request, reference=None):
        notification = access.get_notification_for(request.user, reference)
        return self._detail(notification)

    def create(self, request):
        return idempotency.run(self, request, lambda: self._create(request))

    def _create(self, request):
        serializer = validated(NotificationInputSerializer, request.data)
        with service_errors():
            notification = services.file_notification(
                actor=request.user,
                data=serializer.to_data(),
                draft=serializer.validated_data["draft"],
                now=timezone.now(),
            )
        return self._detail(notification, code=status.HTTP_201_CREATED, created=True)

    def _act(self, request, reference, *, action_name, input_serializer, call):
        """Visibility (404), then party and role (403), then shape (400), then the service
        (400, 409, 412)."""

        def work():
            notification = access.get_notification_for(request.user, reference)
            if not access.may_act_as(request.user, notification, action_name):
                raise exceptions.PermissionDenied("Your authority or role may not do this to this notification.")
            data = validated(input_serializer, request.data).validated_data
            with service_errors():
                updated = call(
                    notification=notification,
                    data=data,
                    expected_version=expected_version(request, notification),
                    now=timezone.now(),
                )
            return self._detail(updated)

        return idempotency.run(self, request, work)

    @action_schema(
        "Send a draft",
        "The exporting authority sends a draft to the importing country; the reply period starts now.",
        EmptyInputSerializer,
        WRITE,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.SUBMIT,
            input_serializer=EmptyInputSerializer,
            call=lambda notification, data, **kw: services.submit(actor=request.user, notification=notification, **kw),
        )

    @action_schema(
        "Acknowledge receipt",
        "The importing authority confirms receipt. Idempotent: acknowledging again changes nothing.",
        EmptyInputSerializer,
        RESPOND,
        errors=(401, 403, 404, 409, 412, 422),
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.ACKNOWLEDGE,
            input_serializer=EmptyInputSerializer,
            call=lambda notification, data, **kw: services.acknowledge(
                actor=request.user, notification=notification, **kw
            ),
        )

    @action_schema(
        "Reply",
        "The importing authority replies: `no_objection`, `objection` (with the reasons in `comment`), or "
        "`information_requested` (with the question in `comment`; the reply clock stops until the answer). "
        "After a final reply (`no_objection`, `objection`) another is 409.",
        RespondInputSerializer,
        RESPOND,
        examples=[
            OpenApiExample("No objection", request_only=True, value={"decision": "no_objection", "comment": ""}),
            OpenApiExample(
                "Request for information",
                request_only=True,
                value={"decision": "information_requested", "comment": "Which products will be made?"},
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.REPLY_NO_OBJECTION,  # every decision is the importing authority's
            input_serializer=RespondInputSerializer,
            call=lambda notification, data, **kw: services.respond(
                actor=request.user, notification=notification, decision=data["decision"], comment=data["comment"], **kw
            ),
        )

    @action_schema(
        "Answer a request for information",
        "The exporting authority answers the open request for information; the status returns to "
        "`awaiting_reply` and the due date moves by the days the question was open.",
        ProvideInformationInputSerializer,
        WRITE,
    )
    @action(detail=True, methods=["post"])
    def provide_information(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.PROVIDE_INFORMATION,
            input_serializer=ProvideInformationInputSerializer,
            call=lambda notification, data, **kw: services.provide_information(
                actor=request.user, notification=notification, comment=data["comment"], **kw
            ),
        )

    @action_schema(
        "Withdraw",
        "The exporting authority withdraws the notification, with the reason. Not after a final reply (409).",
        WithdrawInputSerializer,
        WRITE,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.WITHDRAW,
            input_serializer=WithdrawInputSerializer,
            call=lambda notification, data, **kw: services.withdraw(
                actor=request.user, notification=notification, reason=data["reason"], **kw
            ),
        )

    # --- the shipment after the reply (issue 14) --------------------------------------

    @action_schema(
        "Record the dispatch",
        "The exporting authority records the day the consignment left and the quantity shipped of every item "
        "(by `position`; 0 for an item not shipped), never above the notified quantity (400 naming the item). "
        "After `no_objection`, or under a tacit-consent regime once the reply period has passed without a reply; "
        "before that, or a second time, 409. The importing authority is told (webhook "
        "`notification.dispatched`); 30 days later an unconfirmed arrival raises `arrival_unconfirmed` and the "
        "importing authority is reminded, once.",
        DispatchInputSerializer,
        WRITE,
        examples=[
            OpenApiExample(
                "Dispatched",
                request_only=True,
                value={"dispatched_on": "2026-12-20", "items": [{"position": 1, "quantity": "250.000"}]},
            )
        ],
    )
    # Not "def dispatch": that is the name of DRF's request entry point on every view.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def record_dispatch(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.DISPATCH,
            input_serializer=DispatchInputSerializer,
            call=lambda notification, data, **kw: services.dispatch(
                actor=request.user,
                notification=notification,
                dispatched_on=data["dispatched_on"],
                quantities=_shipped(data),
                **kw,
            ),
        )

    @action_schema(
        "Confirm the arrival",
        "The importing authority confirms the day the consignment arrived and the quantity received of every "
        "item. A quantity more than 1 % away from the dispatched one raises `quantity_discrepancy` (explained "
        "with POST .../explain_discrepancy/). Before the dispatch, or a second time, 409; a date before the "
        "dispatch or in the future, 400. The exporting authority is told (webhook `notification.arrived`).",
        ArrivalInputSerializer,
        RESPOND,
        examples=[
            OpenApiExample(
                "Arrived with less",
                request_only=True,
                value={"arrived_on": "2027-01-12", "items": [{"position": 1, "quantity": "220.000"}], "comment": ""},
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def confirm_arrival(self, request, reference=None):
        return self._act(
            request,
            reference,
            action_name=Action.CONFIRM_ARRIVAL,
            input_serializer=ArrivalInputSerializer,
            call=lambda notification, data, **kw: services.confirm_arrival(
                actor=request.user,
                notification=notification,
                arrived_on=data["arrived_on"],
                quantities=_shipped(data),
                comment=data["comment"],
                **kw,
            ),
        )

    @action_schema(
        "Explain a quantity difference",
        "The importing or the exporting authority explains the difference between the dispatched and received "
        "quantities; the `quantity_discrepancy` flag is resolved and the explanation kept in the timeline. "
        "Without an unexplained difference, 409.",
        ExplainDiscrepancyInputSerializer,
        WRITE,
    )
    @action(detail=True, methods=["post"])
    def explain_discrepancy(self, request, reference=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            comment = validated(ExplainDiscrepancyInputSerializer, request.data).validated_data["comment"]
            with service_errors():
                try:
                    updated = services.explain_discrepancy(
                        actor=request.user, notification=notification, comment=comment, now=timezone.now()
                    )
                except DjangoPermissionDenied as error:
                    raise exceptions.PermissionDenied(
                        "Only the importing or the exporting authority explains a quantity difference."
                    ) from error
            return self._detail(updated)

        return idempotency.run(self, request, work)

    # --- suspension (issue 12) -----------------------------------------------------------

    @action_schema(
        "Suspend the consignment",
        "Any authority party to the notification (exporting, the addressed importing authority, a transit "
        "country's) suspends the consignment pending verification, with the reason. Every party and INCB is told "
        "at once (webhook `notification.suspended`); the status does not change, and no dispatch is recorded "
        "until it is lifted. A second suspension while one is in force: 409. Not on a draft, an objected or a "
        "withdrawn notification (409).",
        SuspendInputSerializer,
        WRITE,
        examples=[
            OpenApiExample(
                "Suspended", request_only=True, value={"reason": "The consignee's address is a residential flat."}
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, reference=None):
        def call(notification, data, **kw):
            kw.pop("expected_version", None)  # a suspension is never refused for a stale page
            services.suspend(actor=request.user, notification=notification, reason=data["reason"], **kw)
            return notification

        return self._act(
            request, reference, action_name=Action.SUSPEND, input_serializer=SuspendInputSerializer, call=call
        )

    @action_schema(
        "Lift the suspension",
        "The authority that suspended the consignment lifts the suspension, with what the verification found "
        "(another authority: 403; none in force: 409). It stays in `suspensions`; every party and INCB is told "
        "(webhook `notification.suspension_lifted`).",
        LiftSuspensionInputSerializer,
        WRITE,
    )
    @action(detail=True, methods=["post"])
    def lift_suspension(self, request, reference=None):
        def call(notification, data, **kw):
            kw.pop("expected_version", None)
            services.lift_suspension(actor=request.user, notification=notification, comment=data["comment"], **kw)
            return notification

        return self._act(
            request,
            reference,
            action_name=Action.LIFT_SUSPENSION,
            input_serializer=LiftSuspensionInputSerializer,
            call=call,
        )

    # --- drafts: change, discard ------------------------------------------------------

    @extend_schema(
        summary="Change a draft, or amend a sent notification",
        description="The exporting authority changes its notification: only the fields sent change. A party "
        "(`exporter`, `importer`, `consignee`, `broker`) or `shipment` is merged key by key; `items` and "
        "`transit_countries`, when sent, replace the whole list (each item complete). `If-Match` is required "
        "(428 without, 412 if stale).\n\n"
        "**A draft** may change anything and stay incomplete; POST .../submit/ sends it.\n\n"
        "**A sent notification** awaiting its reply (`awaiting_reply`, `information_requested`) is *amended*: "
        "`shipment.*`, `transit_countries`, an item's `packages` or a lower `quantity`, "
        "`import_authorization_number` and `national_reference` may change; anything else (a party, the "
        "importing country, the end use, a substance, an item added or removed, a higher quantity, `reply_due`) "
        "is a 400 on that field that says to file a new notification. The amendment is kept in `amendments` "
        "(before and after), told to the importing and transit authorities (webhook `notification.amended`), "
        "and never restarts the reply clock. Sending only unchanged values changes nothing. After a final reply "
        "or a withdrawal: 409.\n\nScope `notifications:write`. Returns the notification with its new `ETag`.",
        request=DraftPatchInputSerializer,
        parameters=[REFERENCE, IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        responses={
            200: NotificationSerializer,
            **{c: r for c, r in ((400, R400), (401, R401), (403, R403), (404, R404), (409, R409))},
            **{412: R412, 422: R422, 428: R428},
        },
        examples=[
            OpenApiExample(
                "Another importer address and a new dispatch date",
                request_only=True,
                value={"importer": {"address": "14 Ring Road, Accra"}, "shipment": {"expected_dispatch": "2026-12-20"}},
            )
        ],
        tags=["notifications"],
    )
    def partial_update(self, request, reference=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            # One operation, two services: a draft is edited freely, a sent one amended.
            draft = notification.status == Status.DRAFT
            self._require(notification, Action.EDIT_DRAFT if draft else Action.AMEND)
            version = required_version(request, notification)
            patch = validated(DraftPatchInputSerializer, request.data, partial=True)
            change = services.update_draft if draft else services.amend
            with service_errors():
                updated = change(
                    actor=request.user,
                    notification=notification,
                    data=patch.merged_onto(services.stored_data(notification)),
                    expected_version=version,
                    now=timezone.now(),
                )
            return self._detail(updated)

        return idempotency.run(self, request, work)

    @extend_schema(
        summary="Delete a draft",
        description="The exporting authority discards its draft, with its timeline (nobody else ever saw it). "
        "Only a draft (409 once sent: withdraw it instead). With `If-Match`, only that version (412 if it "
        "changed).\n\nScope `notifications:write`.",
        parameters=[REFERENCE, IF_MATCH, IDEMPOTENCY_KEY],
        request=None,
        responses={204: None, 401: R401, 403: R403, 404: R404, 409: R409, 412: R412, 422: R422},
        tags=["notifications"],
    )
    def destroy(self, request, reference=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            self._require(notification, Action.DELETE_DRAFT)
            with service_errors():
                services.delete_draft(
                    actor=request.user,
                    notification=notification,
                    expected_version=expected_version(request, notification),
                    now=timezone.now(),
                )
            return Response(status=status.HTTP_204_NO_CONTENT)

        return idempotency.run(self, request, work)

    def _require(self, notification, action_name):
        if not access.may_act_as(self.request.user, notification, action_name):
            raise exceptions.PermissionDenied("Your authority or role may not do this to this notification.")

    # --- shares -------------------------------------------------------------------------

    def _shares_response(self, notification, code=status.HTTP_200_OK):
        rows = ShareSerializer(access.shared_authorities(notification), many=True).data
        return Response(rows, status=code)

    @extend_schema(
        summary="Whom it is shared with",
        description="The authorities the exporting authority let read this notification (read only). Seen by "
        "the exporting authority and INCB only, like the share events of the timeline; any other party: 403."
        "\n\nScope `notifications:read`.",
        parameters=[REFERENCE],
        request=None,
        responses={200: ShareSerializer(many=True), 401: R401, 403: R403, 404: R404},
        tags=["notifications"],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def shares(self, request, reference=None):
        notification = access.get_notification_for(request.user, reference)
        parties = access.parties_of(request.user, notification)
        if not access.may_see_event(parties, EventKind.SHARED):
            raise exceptions.PermissionDenied("Only the exporting authority and INCB see whom it is shared with.")
        return self._shares_response(notification)

    @extend_schema(
        summary="Share with another authority",
        description="The exporting authority lets another competent authority read the notification (read "
        "only, revocable); not a draft (409), not one it is already shared with (409), not INCB or your own "
        "authority (400). Answers the list of shares.\n\nScope `notifications:write`.",
        parameters=[REFERENCE, IDEMPOTENCY_KEY],
        request=ShareInputSerializer,
        responses={201: ShareSerializer(many=True), 400: R400, 401: R401, 403: R403, 404: R404, 409: R409, 422: R422},
        examples=[OpenApiExample("Share with France's ANSM", request_only=True, value={"authority": "fr-ansm"})],
        tags=["notifications"],
    )
    @shares.mapping.post
    def add_share(self, request, reference=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            self._require(notification, Action.SHARE)
            code = validated(ShareInputSerializer, request.data).validated_data["authority"]
            authority = Authority.objects.filter(code=code).first()
            if authority is None:
                raise exceptions.ValidationError({"authority": [f"No competent authority has the code “{code}”."]})
            with service_errors():
                services.share(actor=request.user, notification=notification, authority=authority, now=timezone.now())
            return self._shares_response(notification, code=status.HTTP_201_CREATED)

        return idempotency.run(self, request, work)

    @extend_schema(
        summary="Stop sharing",
        description="The exporting authority withdraws another authority's right to read the notification. An "
        "authority it is not shared with: 404.\n\nScope `notifications:write`.",
        parameters=[
            REFERENCE,
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The authority's code."),
            IDEMPOTENCY_KEY,
        ],
        request=None,
        responses={204: None, 401: R401, 403: R403, 404: R404, 409: R409, 422: R422},
        tags=["notifications"],
    )
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<code>[^/]+)")
    def revoke_share(self, request, reference=None, code=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            self._require(notification, Action.SHARE)
            authority = access.shared_authorities(notification).filter(code=code).first()
            if authority is None:
                raise Http404
            with service_errors():
                services.revoke_share(
                    actor=request.user, notification=notification, authority=authority, now=timezone.now()
                )
            return Response(status=status.HTTP_204_NO_CONTENT)

        return idempotency.run(self, request, work)

    # --- attachments --------------------------------------------------------------------

    @extend_schema(
        summary="Attached documents",
        description="The documents the exporting authority attached (import permit, end-user certificate...), "
        "oldest first, for every party that may read the notification.\n\nScope `notifications:read`.",
        parameters=[REFERENCE],
        request=None,
        responses={200: AttachmentSerializer(many=True), 401: R401, 403: R403, 404: R404},
        tags=["notifications"],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[], parser_classes=[MultiPartParser])
    def attachments(self, request, reference=None):
        notification = access.get_notification_for(request.user, reference)
        rows = AttachmentSerializer(
            notification.attachments.all(), many=True, context={"request": request, "reference": reference}
        )
        return Response(rows.data)

    @extend_schema(
        summary="Attach a document",
        description="The exporting authority attaches a PDF, PNG or JPEG (recognised by its first bytes, not its "
        "name), at most `ATTACHMENT_MAX_BYTES` (10 MB by default: 413 above), as `multipart/form-data` with the "
        "field `file`. Not once withdrawn (409). An Idempotency-Key covers the file's content.\n\n"
        "Scope `notifications:write`.",
        parameters=[REFERENCE, IDEMPOTENCY_KEY],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            **{c: r for c, r in ((400, R400), (401, R401), (403, R403), (404, R404), (409, R409))},
            **{413: R413, 415: R415, 422: R422},
        },
        tags=["notifications"],
    )
    @attachments.mapping.post
    def upload_attachment(self, request, reference=None):
        def work():
            notification = access.get_notification_for(request.user, reference)
            self._require(notification, Action.ATTACH)
            upload = validated(AttachmentUploadSerializer, request.data).validated_data["file"]
            if upload.size > settings.ATTACHMENT_MAX_BYTES:
                raise FileTooLarge(services.attachment_too_large(settings.ATTACHMENT_MAX_BYTES).messages[0])
            with service_errors():
                attachment = services.add_attachment(
                    actor=request.user,
                    notification=notification,
                    upload=upload,
                    now=timezone.now(),
                    max_bytes=settings.ATTACHMENT_MAX_BYTES,
                )
            body = AttachmentSerializer(attachment, context={"request": request, "reference": reference}).data
            response = Response(body, status=status.HTTP_201_CREATED)
            response["Location"] = body["url"]
            return response

        return idempotency.run(self, request, work)

    @extend_schema(
        summary="Download a document",
        description="The attached file itself, with its recognised type, to every party that may read the "
        "notification.\n\nScope `notifications:read`.",
        parameters=[
            REFERENCE,
            OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The attachment's token."),
        ],
        request=None,
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            401: R401,
            403: R403,
            404: R404,
        },
        tags=["notifications"],
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<token>[0-9a-f]+)")
    def attachment(self, request, reference=None, token=None):
        notification = access.get_notification_for(request.user, reference)
        stored = notification.attachments.filter(token=token).first()
        if stored is None:
            raise Http404
        filename, content_type = services.served_attachment(stored)
        response = FileResponse(
            stored.file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"  # the body is a user's upload
        return response
