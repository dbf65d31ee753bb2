"""Reference data for any authenticated user or machine client: substances, countries and
the directory of authorities. Read only. The contract's field names are fixed
(docs/api.md); the fields beyond them are documented here and in the schema."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated

from api.permissions import HasRequiredScope

from .models import Authority, Country, Substance


class SubstanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Substance
        fields = ["code", "name", "schedule", "cas_number", "hs_code", "alr_applicable"]
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
        }


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


@reference_schema(
    "substances",
    SubstanceSerializer,
    "The substance catalogue: Tables I and II of the 1988 Convention and examples from the special "
    "surveillance list, with CAS numbers and HS codes. Ordered by code.",
    "code",
)
class SubstanceViewSet(ReferenceViewSet):
    queryset = Substance.objects.order_by("code")
    serializer_class = SubstanceSerializer
    filterset_fields = ["schedule", "alr_applicable"]


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
