"""The directory, the country pages and INCB's page of declared policies.

Thin adapters: they read the request, call the services in authorities.services for every
change, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .forms import CountryPolicyForm
from .models import Authority, Country, ReplyRegime

MAX_SEARCH_LENGTH = 100


def _search_term(request) -> str:
    return request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]


def _require_incb(request):
    """Pages for INCB staff only. Anyone else gets the same 404 as for a page that does
    not exist, so the page's existence is not revealed."""
    if not request.user.is_incb:
        raise Http404


@login_required
@require_GET
def directory(request):
    term = _search_term(request)
    # By country, and in each country the focal point first: it is the one to write to.
    authorities = list(
        Authority.objects.national()
        .select_related("country")
        .search(term)
        .order_by("country__name", "-is_focal_point", "name")
    )
    return render(
        request,
        "authorities/directory.html",
        {
            "authorities": authorities,
            "country_count": len({authority.country_id for authority in authorities}),
            "q": term,
        },
    )


@login_required
@require_GET
def country(request, code):
    country = get_object_or_404(Country, code=code.upper())
    authorities = list(country.authorities.order_by("-is_focal_point", "name"))
    return render(
        request,
        "authorities/country.html",
        {
            "country": country,
            "focal_point": next((authority for authority in authorities if authority.is_focal_point), None),
            "authorities": authorities,
        },
    )


@login_required
@require_GET
def policies(request):
    _require_incb(request)
    term = _search_term(request)
    regime = request.GET.get("regime", "")
    declared_only = request.GET.get("declared") == "1"
    countries = Country.objects.all()
    if term:
        countries = countries.filter(Q(name__icontains=term) | Q(code__iexact=term) | Q(alpha3__iexact=term))
    if regime in ReplyRegime.values:
        countries = countries.filter(reply_regime=regime)
    if declared_only:
        countries = countries.filter(policy_updated_at__isnull=False)
    return render(
        request,
        "authorities/policies.html",
        {
            "countries": countries,
            "q": term,
            "regime": regime,
            "regimes": ReplyRegime.choices,
            "declared_only": declared_only,
            "filtered": bool(term or regime or declared_only),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, code):
    _require_incb(request)
    country = get_object_or_404(Country, code=code.upper())
    form = CountryPolicyForm.for_country(country, data=request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.update_country_policy(country=country, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The declared policy of %(country)s is saved.") % {"country": country.name})
            return redirect("authorities:policies")
    return render(request, "authorities/policy_edit.html", {"country": country, "form": form})
