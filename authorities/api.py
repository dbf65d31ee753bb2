"""Reference data for any authenticated client: substances, countries, authorities."""

from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.oauth import HasRequiredScope

from .models import Authority, Country, Substance


class SubstanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Substance
        fields = ["code", "name", "schedule", "cas_number", "hs_code", "alr_applicable"]


class CountrySerializer(serializers.ModelSerializer):
    article_12_10a_invoked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Country
        fields = [
            "code",
            "name",
            "reply_regime",
            "reply_period_days",
            "reply_period_kind",
            "article_12_10a_invoked",
            "article_12_10a_tables",
        ]


class AuthoritySerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id", allow_null=True, read_only=True)

    class Meta:
        model = Authority
        fields = ["code", "name", "kind", "country", "email", "phone", "address", "is_focal_point"]


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, HasRequiredScope]
    required_scopes: list[str] = []
    pagination_class = None


class SubstanceViewSet(ReferenceViewSet):
    """The substance catalogue: Tables I and II of the 1988 Convention and surveillance-list examples."""

    queryset = Substance.objects.order_by("code")
    serializer_class = SubstanceSerializer
    lookup_field = "code"
    filterset_fields = ["schedule", "alr_applicable"]


class CountryViewSet(ReferenceViewSet):
    """ISO 3166-1 countries with their declared pre-export notification policy."""

    queryset = Country.objects.order_by("code")
    serializer_class = CountrySerializer
    lookup_field = "code"
    filterset_fields = ["reply_regime"]


class AuthorityViewSet(ReferenceViewSet):
    """The directory of competent national authorities (and the INCB secretariat)."""

    queryset = Authority.objects.select_related("country").order_by("code")
    serializer_class = AuthoritySerializer
    lookup_field = "code"
    filterset_fields = ["country", "kind", "is_focal_point"]
