"""GET /api/v1/timeliness/: every visible importing country's timeliness figures for a
period, the same figures as INCB's review page (timeliness.stats), per the contract in
docs/api.md. A thin adapter: read the period, ask stats whose rows the
caller may see, return them."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import HasRequiredScope
from web.dates import validate_typed_date

from . import stats

SCOPE = "statistics:read"


class PeriodInputSerializer(serializers.Serializer):
    """The query string: ``from`` and ``to`` (``from`` is a Python keyword, hence get_fields)."""

    from_ = serializers.DateField(required=False, input_formats=["%Y-%m-%d"], validators=[validate_typed_date])
    to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"], validators=[validate_typed_date])

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        today = self.context["today"]
        end = attrs.get("to") or today
        start = attrs.get("from")
        if start is None:
            try:
                start = end - timedelta(days=stats.PERIOD_DAYS)
            except OverflowError:
                start = end.min
        if start > end:
            raise serializers.ValidationError({"to": ["The end of the period is before its start (`from`)."]})
        return {"from": start, "to": end}


class TimelinessRowSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="The importing country (ISO 3166-1 alpha-2).")
    country_name = serializers.CharField(help_text="Its name.")
    received = serializers.IntegerField(
        help_text="Notifications to the country whose reply-due date falls in the period (drafts never; "
        "notifications withdrawn unanswered before their deadline neither)."
    )
    acknowledged = serializers.IntegerField(help_text="Of those, the ones whose receipt was confirmed.")
    replied = serializers.IntegerField(
        help_text="Of those, the ones with a final reply (no objection or objection), whenever it came."
    )
    due = serializers.IntegerField(
        help_text="Of those, the ones whose reply deadline (the end of the reply-due day, UTC) has passed, or "
        "that were answered already: the denominator of the rates."
    )
    replied_on_time = serializers.IntegerField(
        help_text="Of those, the ones whose first answer (a final reply or a request for information) came by "
        "the deadline. Fixed when the answer comes: a later move of the reply-due date does not change it."
    )
    on_time_rate = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="replied_on_time / due, a number between 0 and 1 (4 decimals); null when nothing is due.",
    )
    silence_rate = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Due notifications not answered by the deadline (answered late, or never) / due, between 0 "
        "and 1 (4 decimals); null when nothing is due.",
    )
    median_days_to_reply = serializers.FloatField(
        allow_null=True,
        min_value=0,
        help_text="Median days from sending to the first answer (1 decimal); null when nothing was answered.",
    )
    p90_days_to_reply = serializers.FloatField(
        allow_null=True,
        min_value=0,
        help_text="90th percentile of the same (continuous, 1 decimal); null when nothing was answered.",
    )
    overdue_now = serializers.IntegerField(
        help_text="Of the period's notifications, those awaiting a reply after their deadline at this moment."
    )
    objections = serializers.IntegerField(help_text="Of those, the ones whose final reply is an objection.")
    information_requests = serializers.IntegerField(
        help_text="Requests for information made on them (a notification may have several)."
    )
    voluntary_due = serializers.IntegerField(
        help_text="Voluntary notifications (non-scheduled chemicals) with a reply deadline in the period that are "
        "due; counted apart, never in the rates above (only scheduled notifications are). A voluntary "
        "notification without a deadline is never counted."
    )
    voluntary_replied_on_time = serializers.IntegerField(
        help_text="Of those, the ones whose first answer came by their deadline."
    )


ERROR_BODY = inline_serializer(
    name="TimelinessErrorBody", fields={"detail": serializers.CharField(help_text="What went wrong, in words.")}
)
FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each key a query parameter (`from`, `to`), each value a list of messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class TimelinessView(APIView):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes = [SCOPE]

    @extend_schema(
        operation_id="timeliness_list",
        summary="Timeliness of replies, by importing country",
        description=(
            "One row per importing country with at least one notification whose reply-due date falls in the "
            "period (`from` to `to`, both inclusive). Without `from` and `to`: the last 12 months, i.e. "
            "from 365 days before today to today. Only `to`: the 365 days before it. Only `from`: up to today.\n\n"
            "Rates are numbers between 0 and 1, or null when nothing is due; days are numbers, or null when "
            "nothing was answered. Figures are computed when you ask and stay correct as late replies arrive "
            "(a late reply adds to `replied`, never to `replied_on_time`).\n\n"
            "Visibility: INCB sees every country; a national authority sees its own country's row and the rows "
            "of the countries it has sent notifications to. Rows are ordered by country code; there are at "
            f"most as many as countries, so the list is not paginated.\n\nScope `{SCOPE}`."
        ),
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=False,
                description="First reply-due date of the period (YYYY-MM-DD, inclusive).",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=False,
                description="Last reply-due date of the period (YYYY-MM-DD, inclusive); today by default.",
            ),
        ],
        responses={
            200: TimelinessRowSerializer(many=True),
            400: OpenApiResponse(FIELD_ERRORS, description="`from` or `to` is not a date, or `from` is after `to`."),
            401: OpenApiResponse(ERROR_BODY, description="No credentials, or credentials that are not valid."),
            403: OpenApiResponse(ERROR_BODY, description=f"Your token lacks the scope `{SCOPE}`."),
        },
        examples=[
            # drf-spectacular wraps a list response's example in the list itself: one row each.
            OpenApiExample(
                "A country that answers",
                response_only=True,
                value={
                    "country": "GH",
                    "country_name": "Ghana",
                    "received": 3,
                    "acknowledged": 3,
                    "replied": 3,
                    "due": 3,
                    "replied_on_time": 3,
                    "on_time_rate": 1.0,
                    "silence_rate": 0.0,
                    "median_days_to_reply": 4.0,
                    "p90_days_to_reply": 8.8,
                    "overdue_now": 0,
                    "objections": 0,
                    "information_requests": 0,
                    "voluntary_due": 0,
                    "voluntary_replied_on_time": 0,
                },
            ),
            OpenApiExample(
                "A silent country",
                response_only=True,
                value={
                    "country": "NG",
                    "country_name": "Nigeria",
                    "received": 2,
                    "acknowledged": 1,
                    "replied": 0,
                    "due": 2,
                    "replied_on_time": 0,
                    "on_time_rate": 0.0,
                    "silence_rate": 1.0,
                    "median_days_to_reply": None,
                    "p90_days_to_reply": None,
                    "overdue_now": 2,
                    "objections": 0,
                    "information_requests": 0,
                    "voluntary_due": 0,
                    "voluntary_replied_on_time": 0,
                },
            ),
        ],
        tags=["timeliness"],
    )
    def get(self, request):
        today = timezone.now().date()
        # An empty parameter (`?from=`) is taken as absent, as the web pages do.
        params = {name: value for name in ("from", "to") if (value := request.query_params.get(name, "").strip())}
        period = PeriodInputSerializer(data=params, context={"today": today})
        if not period.is_valid():
            raise exceptions.ValidationError(period.errors)
        visible = stats.visible_countries(request.user)
        rows = stats.timeliness(
            period_from=period.validated_data["from"],
            period_to=period.validated_data["to"],
            today=today,
            importing_countries=visible,
        )
        return Response(TimelinessRowSerializer(rows, many=True).data)
