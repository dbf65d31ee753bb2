"""Reference data for any authenticated user or machine client: substances, countries and
the directory of authorities. Read only, except INCB's special surveillance list, which
INCB's clients maintain (scope ``estimates:write``) through authorities.surveillance. The
contract's field names are fixed (docs/api.md); the fields beyond them are documented here
and in the schema."""

import django_filters
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import idempotency
from api.permissions import HasRequiredScope
from api.responses import ERROR_BODY, IDEMPOTENCY_KEY, R400, R401, validated

from . import surveillance
from .models import Authority, Country, Substance

WRITE = "estimates:write"


class SubstanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Substance
        fields = [
            "code",
            "name",
            "schedule",
            "cas_number",
            "hs_code",
            "alr_applicable",
            "active",
            "recommended_actions",
        ]
        extra_kwargs = {
            "code": {"help_text": "Stable identifier of the substance, used in notification items."},
            "name": {"help_text": "Name as in the tables of the 1988 Convention."},
            "schedule": {"help_text": "Table I or Table II of the 1988 Convention, or the special surveillance list."},
            "cas_number": {"help_text": "CAS registry number; empty where none is confirmed."},
            "hs_code": {"help_text": "Harmonized System code (HS 2022), 6 digits as `NNNN.NN`."},
            "alr_applicable": {
                "help_text": "True for substances for which importing countries estimate annual legitimate "
                "requirements (CND resolution 49/3)."
            },
            "active": {
                "help_text": "False for an entry retired from the special surveillance list: it is kept, with its "
                "history, but offered to no new notification. Always true for Tables I and II."
            },
            "recommended_actions": {
                "help_text": "For an entry of the special surveillance list: the voluntary actions INCB recommends "
                "to governments (CND resolution 60/5). Empty where none are given."
            },
        }


class SurveillanceEntrySerializer(serializers.Serializer):
    """Shapes only; the rules (a name, a valid and unused CAS number, an HS code of digits
    and dots) are authorities.surveillance's."""

    name = serializers.CharField(
        required=False, allow_blank=True, help_text="The chemical's name (required); it gives the entry's `code`."
    )
    cas_number = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="CAS registry number `NNNNNNN-NN-N` with its hyphens; the check digit is verified. Optional; "
        "no other substance may have it.",
    )
    hs_code = serializers.CharField(
        required=False, allow_blank=True, help_text="Harmonized System code, digits and dots (e.g. `2912.21`)."
    )
    recommended_actions = serializers.CharField(
        required=False, allow_blank=True, help_text="The voluntary actions INCB recommends."
    )


class SurveillanceEntryChangeSerializer(SurveillanceEntrySerializer):
    active = serializers.BooleanField(
        required=False, help_text="`false` retires the entry (it is kept, never deleted); `true` reinstates it."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why the entry is retired or reinstated; kept in its history. Only with `active`.",
    )


class CountrySerializer(serializers.ModelSerializer):
    article_12_10a_invoked = serializers.BooleanField(
        read_only=True,
        help_text="True if the country asked, under article 12(10)(a) of the 1988 Convention, to be notified "
        "before exports to it (see `article_12_10a_tables` for which tables).",
    )

    class Meta:
        model = Country
        fields = [
            "code",
            "name",
            "alpha3",
            "reply_regime",
            "reply_period_days",
            "reply_period_kind",
            "article_12_10a_invoked",
            "article_12_10a_tables",
            "policy_updated_at",
        ]
        extra_kwargs = {
            "code": {"help_text": "ISO 3166-1 alpha-2 code."},
            "name": {"help_text": "Common English name (ISO 3166-1)."},
            "alpha3": {"help_text": "ISO 3166-1 alpha-3 code."},
            "reply_regime": {
                "help_text": "`explicit_consent`: silence never clears a shipment. `tacit_consent`: after the "
                "reply period without a reply the export may proceed (the silence is still recorded)."
            },
            "reply_period_days": {
                "help_text": "The declared reply period; a notification's `reply_due` may not be earlier."
            },
            "reply_period_kind": {
                "help_text": "Whether the reply period counts calendar days or working days (Monday to Friday, less "
                "the country's national public holidays and the closures declared for it)."
            },
            "article_12_10a_tables": {
                "help_text": "The tables for which article 12(10)(a) is invoked; empty if it is not invoked."
            },
            "policy_updated_at": {
                "help_text": "When INCB last recorded the declared policy; null while the portal's default "
                "policy (explicit consent, 15 calendar days) applies."
            },
        }


class AuthoritySerializer(serializers.ModelSerializer):
    country = serializers.CharField(
        source="country_id",
        allow_null=True,
        read_only=True,
        help_text="ISO 3166-1 alpha-2 code of the authority's country; null for the INCB secretariat.",
    )

    class Meta:
        model = Authority
        fields = ["code", "name", "kind", "country", "email", "phone", "address", "is_focal_point"]
        extra_kwargs = {
            "code": {"help_text": "Stable identifier of the authority."},
            "name": {"help_text": "Name of the authority."},
            "kind": {"help_text": "A competent national authority, or the INCB secretariat."},
            "email": {"help_text": "Official e-mail address."},
            "phone": {"help_text": "Official telephone number; may be empty."},
            "address": {"help_text": "Postal address; may be empty."},
            "is_focal_point": {
                "help_text": "True for the one authority of its country that receives incoming notifications."
            },
        }


class ReferencePagination(PageNumberPagination):
    """A page holds a whole reference list (there are 249 countries), so a licensing system
    mirrors it in one request, in the same envelope as every other list of the API."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 500


class CountryFilter(django_filters.FilterSet):
    article_12_10a_invoked = django_filters.BooleanFilter(
        method="filter_invoked", label="Only countries that did (true) or did not (false) invoke article 12(10)(a)."
    )

    class Meta:
        model = Country
        fields = ["reply_regime", "reply_period_kind", "article_12_10a_tables"]

    def filter_invoked(self, queryset, name, value):
        return queryset.exclude(article_12_10a_tables="") if value else queryset.filter(article_12_10a_tables="")


class SubstanceFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(
        label="Only the current entries (true) or the entries retired from the special surveillance list (false)."
    )

    class Meta:
        model = Substance
        fields = ["schedule", "alr_applicable", "active"]


class AuthorityFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(
        field_name="country__code", lookup_expr="iexact", label="ISO 3166-1 alpha-2 code of the country."
    )
    q = django_filters.CharFilter(
        method="filter_search", label="Search: part of the name, the exact code, a country name or code."
    )

    class Meta:
        model = Authority
        fields = ["country", "kind", "is_focal_point"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


ERROR = inline_serializer(name="ReferenceErrorBody", fields={"detail": serializers.CharField()})
UNAUTHENTICATED = OpenApiResponse(ERROR, description="No credentials, or credentials that are not valid.")
NOT_FOUND = OpenApiResponse(ERROR, description="No such code.")
BAD_FILTER = OpenApiResponse(
    description="A filter has a value that is not valid; the body holds a list of messages per filter name."
)


def reference_schema(noun: str, serializer, description: str, lookup: str):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {noun}",
            tags=["reference data"],
            description=description + " Any authenticated user or machine client; no scope is needed.",
            responses={200: serializer(many=True), 400: BAD_FILTER, 401: UNAUTHENTICATED},
        ),
        retrieve=extend_schema(
            summary=f"One of the {noun}, by {lookup}",
            tags=["reference data"],
            description=description,
            responses={200: serializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        ),
    )


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    # Any authenticated user or client. Anonymous requests get 401 (not 403) because the
    # first authentication class (OAuth 2.0) supplies a WWW-Authenticate challenge.
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes: list[str] = []
    pagination_class = ReferencePagination
    lookup_field = "code"


FORBIDDEN_WRITE = OpenApiResponse(
    ERROR_BODY, description="Only INCB's clients maintain the special surveillance list (scope `estimates:write`)."
)


@reference_schema(
    "substances",
    SubstanceSerializer,
    "The substance catalogue: Tables I and II of the 1988 Convention and INCB's special surveillance list "
    "(`?schedule=special_surveillance`), with CAS numbers and HS codes. Entries retired from the list are "
    "listed too, with `active: false` (`?active=true` for the current ones). Ordered by code.",
    "code",
)
class SubstanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes = {"list": [], "retrieve": [], "create": [WRITE], "partial_update": [WRITE]}
    pagination_class = ReferencePagination
    lookup_field = "code"
    queryset = Substance.objects.order_by("code")
    serializer_class = SubstanceSerializer
    filterset_class = SubstanceFilter

    @staticmethod
    def _incb_only(request):
        if not surveillance.may_maintain(request.user):
            raise exceptions.PermissionDenied("Only INCB maintains the special surveillance list.")

    @extend_schema(
        operation_id="substances_create",
        summary="Add an entry to the special surveillance list",
        description="INCB adds a chemical to its special surveillance list (CND resolution 60/5): `schedule` is "
        "`special_surveillance`, `code` the slug of the name. One message per field for a missing name, a name or "
        "code already in the catalogue, a CAS number whose check digit is wrong or that another substance has, an "
        "HS code that is not digits and dots; nothing is stored. Scope `estimates:write` (INCB only).",
        request=SurveillanceEntrySerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: SubstanceSerializer, 400: R400, 401: R401, 403: FORBIDDEN_WRITE},
        examples=[
            OpenApiExample(
                "Benzyl cyanide",
                request_only=True,
                value={
                    "name": "Benzyl cyanide",
                    "cas_number": "140-29-4",
                    "hs_code": "2926.90",
                    "recommended_actions": "Verify the end use of any order above 25 kg.",
                },
            )
        ],
        tags=["reference data"],
    )
    def create(self, request):
        def work():
            self._incb_only(request)
            body = validated(SurveillanceEntrySerializer, request.data).validated_data
            substance = surveillance.add_entry(actor=request.user, data=body, now=timezone.now())
            return Response(SubstanceSerializer(substance).data, status=status.HTTP_201_CREATED)

        return idempotency.run(self, request, work)

    @extend_schema(
        operation_id="substances_partial_update",
        summary="Change, retire or reinstate an entry of the special surveillance list",
        description="INCB changes an entry's `name`, `cas_number`, `hs_code` or `recommended_actions` (its `code` "
        'stays), retires it (`{"active": false}`, with an optional `reason`) or reinstates it (`true`). An entry '
        "is never deleted; each change is kept in its history. Tables I and II are the Convention's and are not "
        "edited: a 400 on `schedule`. Setting a field to the value it has changes nothing. Scope "
        "`estimates:write` (INCB only).",
        request=SurveillanceEntryChangeSerializer,
        responses={200: SubstanceSerializer, 400: R400, 401: R401, 403: FORBIDDEN_WRITE},
        examples=[
            OpenApiExample(
                "Retire",
                request_only=True,
                value={"active": False, "reason": "Scheduled in Table I; notified as such from now on."},
            )
        ],
        tags=["reference data"],
    )
    def partial_update(self, request, code=None):
        self._incb_only(request)
        substance = self.get_object()
        body = validated(SurveillanceEntryChangeSerializer, request.data, partial=True).validated_data
        now = timezone.now()
        fields = {field: body[field] for field in surveillance.EDITABLE if field in body}
        with transaction.atomic():
            substance = surveillance.change_entry(actor=request.user, substance=substance, data=fields, now=now)
            if "active" in body and body["active"] != substance.active:
                change = surveillance.reinstate_entry if body["active"] else surveillance.retire_entry
                substance = change(actor=request.user, substance=substance, now=now, reason=body.get("reason", ""))
        return Response(SubstanceSerializer(substance).data)


@reference_schema(
    "countries",
    CountrySerializer,
    "ISO 3166-1 countries and territories with the pre-export notification policy each declared: reply "
    "regime, reply period, and whether article 12(10)(a) is invoked. Ordered by code.",
    "ISO 3166-1 alpha-2 code (case-insensitive)",
)
class CountryViewSet(ReferenceViewSet):
    queryset = Country.objects.order_by("code")
    serializer_class = CountrySerializer
    filterset_class = CountryFilter

    def get_object(self):
        self.kwargs[self.lookup_field] = self.kwargs[self.lookup_field].upper()
        return super().get_object()


@reference_schema(
    "authorities",
    AuthoritySerializer,
    "The directory of competent national authorities (and the INCB secretariat), with the focal point of "
    "each country for incoming notifications. Ordered by code.",
    "code",
)
class AuthorityViewSet(ReferenceViewSet):
    queryset = Authority.objects.order_by("code")
    serializer_class = AuthoritySerializer
    filterset_class = AuthorityFilter
