"""REST API v1 for the estimates (the contract's "Annual legitimate requirements"): thin
adapters over monitoring.estimates (what is notified against an estimate) and
monitoring.services (the one write path). Reading needs only an authenticated client;
writing, scope ``estimates:write``, which only INCB's clients can hold. POST goes through
api.idempotency."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import idempotency
from api.permissions import HasRequiredScope
from api.responses import ERROR_BODY, FIELD_ERRORS, IDEMPOTENCY_KEY, R400, R401, validated

from . import estimates, services
from .models import EstimateSource

WRITE = "estimates:write"


class EstimateRowSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="Alpha-2 code of the importing country.")
    substance = serializers.CharField(source="substance.code", help_text="Catalogue code of the ALR substance.")
    year = serializers.IntegerField()
    quantity = serializers.DecimalField(
        max_digits=15, decimal_places=3, help_text="The estimate in force for the year, in kg."
    )
    valid_from = serializers.DateField()
    notified = serializers.DecimalField(
        max_digits=18,
        decimal_places=3,
        help_text="kg of the substance notified to the country this year in notifications neither withdrawn nor "
        "objected to; a preparation counts by its concentration.",
    )
    remaining = serializers.DecimalField(
        max_digits=18, decimal_places=3, help_text="`quantity` − `notified`; negative when the estimate is exceeded."
    )


class EstimateInputSerializer(serializers.Serializer):
    """Shapes only; the rules (an ALR substance, a plausible quantity) are the service's."""

    country = serializers.CharField(help_text="Alpha-2 code of the importing country.")
    substance = serializers.CharField(help_text="Catalogue code of an ALR substance (`alr_applicable`).")
    year = serializers.IntegerField()
    quantity = serializers.CharField(help_text='kg, as a decimal string (e.g. `"1500.000"`); 0 to 1,000,000.')
    valid_from = serializers.DateField(required=False, help_text="Today by default.")


def _rows(params, *, now):
    errors = {}
    year = now.year
    if params.get("year"):
        try:
            year = int(params["year"])
        except ValueError:
            errors["year"] = [f"Give the year as four digits, e.g. {now.year}."]
        else:
            if not services.FIRST_YEAR <= year <= now.year + 1:
                errors["year"] = [f"The year must be from {services.FIRST_YEAR} to {now.year + 1}."]
    country = (params.get("country") or "").strip().upper()
    substance = (params.get("substance") or "").strip() or None
    if substance and substance not in {s.code for s in estimates.alr_substances().values()}:
        errors["substance"] = [f"“{substance}” is not an ALR substance."]
    if errors:
        raise exceptions.ValidationError(errors)
    countries = [country] if country else estimates.countries_with_estimates(year)
    return estimates.rows(countries, year, substance_code=substance)


class EstimateViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes = {"list": [], "create": [WRITE]}

    @extend_schema(
        operation_id="estimates_list",
        summary="Annual legitimate requirements and what is notified against them",
        description="One row per country and ALR substance with an estimate in force in the year (an estimate is "
        "valid until replaced: a year without its own takes the latest earlier one), with the kg notified against "
        "it and what remains. Ordered by country, then substance; not paginated (at most four rows per country). "
        "Any authenticated client.",
        parameters=[
            OpenApiParameter("country", OpenApiTypes.STR, description="Alpha-2 code; every country by default."),
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="From 1990 to next year; the current year by default."
            ),
            OpenApiParameter("substance", OpenApiTypes.STR, description="Catalogue code of an ALR substance."),
        ],
        responses={
            200: EstimateRowSerializer(many=True),
            400: OpenApiResponse(FIELD_ERRORS, description="`year` is not a year, or `substance` not an ALR one."),
            401: R401,
        },
        tags=["estimates"],
    )
    def list(self, request):
        rows = _rows(request.query_params, now=timezone.now())
        return Response(EstimateRowSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="estimates_create",
        summary="Record an estimate",
        description="INCB records (or replaces) the estimate of a country, ALR substance and year; the replaced "
        "one stays in the history. The open notifications' `alr_exceeded` flags are recomputed in the background. "
        "One message per field for an unknown country, a substance that is not an ALR one, a negative or absurd "
        "quantity; nothing is stored. Scope `estimates:write` (INCB only).",
        request=EstimateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: EstimateRowSerializer,
            400: R400,
            401: R401,
            403: OpenApiResponse(ERROR_BODY, description="Only INCB's clients hold `estimates:write`."),
        },
        examples=[
            OpenApiExample(
                "Ghana's ephedrine",
                request_only=True,
                value={"country": "GH", "substance": "ephedrine", "year": 2026, "quantity": "1500.000"},
            )
        ],
        tags=["estimates"],
    )
    def create(self, request):
        def work():
            if not services.may_maintain(request.user):
                raise exceptions.PermissionDenied("Only INCB keeps the estimates.")
            body = validated(EstimateInputSerializer, request.data).validated_data
            now = timezone.now()
            estimate = services.record_estimate(
                actor=request.user,
                data=services.EstimateData(
                    country=body["country"],
                    substance=body["substance"],
                    year=body["year"],
                    quantity=body["quantity"],
                    valid_from=body.get("valid_from"),
                ),
                source=EstimateSource.API,
                now=now,
            )
            row = estimates.rows([estimate.country_id], estimate.year, substance_code=estimate.substance.code)[0]
            return Response(EstimateRowSerializer(row).data, status=status.HTTP_201_CREATED)

        return idempotency.run(self, request, work)
