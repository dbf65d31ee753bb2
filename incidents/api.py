"""REST API v1 for incidents (the contract's "Incidents"): thin adapters over
incidents.access and incidents.services. Scopes ``incidents:read`` and
``incidents:write``; every POST and PATCH goes through api.idempotency; a PATCH needs
``If-Match`` (the ETag of the incident), like a notification's."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import idempotency
from api.conditional import required_version
from api.errors import PreconditionFailed
from api.permissions import HasRequiredScope
from api.responses import ERROR_BODY, IDEMPOTENCY_KEY, R400, R401, R412, R422, R428, validated
from notifications import access as notification_access

from . import access, backtracking, services
from .models import Incident, IncidentKind, IncidentSubstance, RouteStop
from .serializers import (
    IncidentInputSerializer,
    IncidentMatchSerializer,
    IncidentPatchSerializer,
    IncidentSerializer,
    prefetch,
)

READ = "incidents:read"
WRITE = "incidents:write"

R403 = OpenApiResponse(
    ERROR_BODY,
    description="Your token lacks the scope, or your authority (or role) may not do this: only national "
    "authorities' officers report; only the reporting authority amends.",
)
R404 = OpenApiResponse(
    ERROR_BODY,
    description='No such incident, or one your authority may not see: the body is the same (`{"detail": "Not '
    'found."}`), so existence is never revealed.',
)
R409 = OpenApiResponse(ERROR_BODY, description="A request with the same Idempotency-Key is still in progress.")
REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The incident's reference, e.g. INC-2026-000001."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you last read. The change is made only if the incident has not changed since; "
    "otherwise 412 (428 without it).",
)
ETAG = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 201], description="The incident's version."
)

EXAMPLE = OpenApiExample(
    "A seizure",
    request_only=True,
    value={
        "kind": "seizure",
        "occurred_on": "2026-11-20",
        "country": "NL",
        "description": "120 kg of ephedrine found in drums declared as sodium chloride.",
        "modus_operandi": "Mis-declared goods, transhipped in Rotterdam.",
        "substances": [{"substance": "ephedrine", "quantity": "120.000", "unit": "kg"}],
        "parties": [
            {"role": "importer", "name": "Accra Pharma Ltd", "address": "12 Ring Road, Accra", "country": "GH"}
        ],
        "route": ["DE", "NL", "GH"],
        "related_notifications": ["DE-2026-000001"],
        "visibility": "concerned",
        "shared_with": ["BE"],
    },
)


class IncidentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=IncidentKind.choices, label="Only incidents of this kind.")
    country = django_filters.CharFilter(
        method="filter_country", label="Alpha-2 code: reported by, or routed through, this country."
    )
    substance = django_filters.CharFilter(method="filter_substance", label="A catalogue substance code.")
    occurred_since = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="gte", label="Only incidents on or after this date (YYYY-MM-DD)."
    )

    class Meta:
        model = Incident
        fields = ["kind", "country", "substance", "occurred_since"]

    def filter_country(self, queryset, name, value):
        code = value.strip().upper()
        routed = RouteStop.objects.filter(country_id=code).values("incident_id")
        return queryset.filter(Q(country_id=code) | Q(pk__in=routed))

    def filter_substance(self, queryset, name, value):
        named = IncidentSubstance.objects.filter(substance__code=value.strip()).values("incident_id")
        return queryset.filter(pk__in=named)


class IncidentPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(
        summary="List incidents",
        description="The incidents your authority may see (a `concerned` one: the reporting country, the route's "
        "countries, `shared_with`, the related notifications' countries and INCB; an `all` one: every competent "
        "authority), newest first, paginated. Scope `incidents:read`.",
        responses={200: IncidentSerializer(many=True), 400: R400, 401: R401, 403: R403},
        tags=["incidents"],
    ),
    retrieve=extend_schema(
        summary="One incident",
        description="Every field of the incident and its history (oldest first). Sends an `ETag` for `If-Match`. "
        "Scope `incidents:read`.",
        parameters=[REFERENCE, ETAG],
        responses={200: IncidentSerializer, 401: R401, 403: R403, 404: R404},
        tags=["incidents"],
    ),
    create=extend_schema(
        summary="Report an incident",
        description="A national authority reports a seizure, stopped or suspended shipment, diversion attempt, "
        "illicit laboratory or other incident. Problems come back at once, one message per field (a party "
        "without a name, an unknown country or substance, a wrong CAS check digit, a route with the same country "
        "twice in a row, a future date, a related notification you cannot see), and nothing is stored. The "
        "concerned focal points and INCB are alerted (e-mail, webhook `incident.reported`), once. Scope "
        "`incidents:write`.",
        request=IncidentInputSerializer,
        parameters=[IDEMPOTENCY_KEY, ETAG],
        responses={201: IncidentSerializer, 400: R400, 401: R401, 403: R403, 409: R409, 422: R422},
        examples=[EXAMPLE],
        tags=["incidents"],
    ),
    partial_update=extend_schema(
        summary="Amend an incident",
        description="The reporting authority changes its incident: only the fields sent change (a list as a "
        "whole). The history keeps each change (before and after). `If-Match` is required (428 without, 412 if "
        "stale). Scope `incidents:write`.",
        request=IncidentPatchSerializer,
        parameters=[REFERENCE, IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        responses={
            200: IncidentSerializer,
            400: R400,
            401: R401,
            403: R403,
            404: R404,
            409: R409,
            412: R412,
            422: R422,
            428: R428,
        },
        tags=["incidents"],
    ),
)
class IncidentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes = {
        "list": [READ],
        "retrieve": [READ],
        "matches": [READ],
        "create": [WRITE],
        "partial_update": [WRITE],
    }
    serializer_class = IncidentSerializer
    pagination_class = IncidentPagination
    filterset_class = IncidentFilter
    lookup_field = "reference"
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Incident.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return prefetch(access.visible_incidents(self.request.user)).order_by("-occurred_on", "-id")

    def _detail(self, incident, *, code=status.HTTP_200_OK, created=False) -> Response:
        incident = prefetch(Incident.objects.filter(pk=incident.pk)).get()
        body = IncidentSerializer(incident, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        response["ETag"] = incident.etag
        if created:
            response["Location"] = str(body["url"])  # a Hyperlink (str subclass): WSGI wants str
        return response

    def retrieve(self, request, reference=None):
        return self._detail(access.get_incident_for(request.user, reference))

    def create(self, request):
        def work():
            if not access.may_report(request.user):
                raise exceptions.PermissionDenied("Only officers of a national authority report incidents.")
            serializer = validated(IncidentInputSerializer, request.data)
            incident = services.report(actor=request.user, data=serializer.to_data(), now=timezone.now())
            return self._detail(incident, code=status.HTTP_201_CREATED, created=True)

        return idempotency.run(self, request, work)

    def partial_update(self, request, reference=None):
        def work():
            incident = access.get_incident_for(request.user, reference)
            if not access.may_amend(request.user, incident):
                raise exceptions.PermissionDenied("Only the reporting authority's officers amend an incident.")
            version = required_version(request, incident)
            patch = validated(IncidentPatchSerializer, request.data, partial=True)
            try:
                updated = services.amend(
                    actor=request.user,
                    incident=incident,
                    data=patch.to_data(services.stored_data(incident)),
                    expected_version=version,
                    now=timezone.now(),
                )
            except services.StaleVersion as error:
                raise PreconditionFailed() from error
            return self._detail(updated)

        return idempotency.run(self, request, work)

    @extend_schema(
        summary="Backtracking: the notifications behind an incident",
        description="The notifications you can see that name a party of the incident (tolerant of spelling, case, "
        "accents, punctuation, word order and legal forms such as Ltd/Limited: reason `party`) or share its route "
        "and substance (reason `route_and_substance`), best first. Scope `incidents:read`.",
        parameters=[REFERENCE],
        responses={200: IncidentMatchSerializer(many=True), 401: R401, 403: R403, 404: R404},
        tags=["incidents"],
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=IncidentPagination)
    def matches(self, request, reference=None):
        incident = access.get_incident_for(request.user, reference)
        rows = backtracking.matches(incident, notification_access.visible_notifications(request.user))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(IncidentMatchSerializer(page, many=True).data)
