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
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
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
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import idempotency
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
    R422,
    EmptyInputSerializer,
    validated,
)
from web.dates import in_range, out_of_range_message

from . import access, services
from .models import Action, Notification, Status
from .serializers import (
    SERVICE_ERROR_KEYS,
    NotificationInputSerializer,
    NotificationSerializer,
    NotificationSummarySerializer,
    ProvideInformationInputSerializer,
    RespondInputSerializer,
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


def expected_version(request, notification) -> int | None:
    """The version an ``If-Match`` header names: the current one if it matches, 0 (never a
    version) if it does not, so that the service refuses it with StaleVersion (412) after
    its own checks. No header, or ``*``: no condition."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if "*" in tags:
        return None
    tags = [tag[2:] if tag.startswith("W/") else tag for tag in tags]
    return notification.version if notification.etag in tags else 0


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
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only notifications changed at or after this instant (ISO 8601 with offset). Poll with the "
        "largest `updated_at` you have seen.",
    )

    class Meta:
        model = Notification
        fields = ["role", "status", "overdue", "importing_country", "exporting_country", "updated_since"]

    def filter_role(self, queryset, name, value):
        # Narrowed by the access module, never here: a role is a way of being a party.
        return queryset & access.visible_notifications(self.request.user, role=value)

    def filter_overdue(self, queryset, name, value):
        # The same rule as Notification.is_overdue.
        late = Q(status=Status.AWAITING_REPLY, reply_due__lt=timezone.now().date())
        return queryset.filter(late) if value else queryset.exclude(late)

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
