"""The directory, the country pages, INCB's page of declared policies and the special
surveillance list (every authority reads it; INCB's staff add, change, retire and
reinstate its entries, through authorities.surveillance, and read each entry's history).

Thin adapters: they read the request, call the services in authorities.services for every
change, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from web.dates import for_people

from . import services, surveillance
from .forms import ClosureForm, CountryPolicyForm, SurveillanceEntryForm, SurveillanceReasonForm
from .models import Authority, Closure, Country, ReplyRegime, Schedule, Substance
from .working_days import is_covered, weekday_holidays

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
    return _country_page(request, country, ClosureForm())


def _country_page(request, country, closure_form):
    """The country page: its policy, its authorities, and its working-day calendar (public
    holidays on weekdays this year and next, declared closures) with, for those who may,
    the form that declares a closure."""
    today = timezone.now().date()
    authorities = list(country.authorities.order_by("-is_focal_point", "name"))
    years = (today.year, today.year + 1)
    closures = list(
        country.closures.filter(date__year__gte=years[0]).select_related("declared_by__authority").order_by("date")
    )
    return render(
        request,
        "authorities/country.html",
        {
            "country": country,
            "focal_point": next((authority for authority in authorities if authority.is_focal_point), None),
            "authorities": authorities,
            "calendar_covered": is_covered(country.code),
            "holidays": weekday_holidays(country.code, years),
            "years": years,
            "closures": closures,
            "today": today,
            "may_manage_closures": services.may_manage_closures(request.user, country),
            "closure_form": closure_form,
        },
    )


@login_required
@require_POST
def closure_declare(request, code):
    country = get_object_or_404(Country, code=code.upper())
    if not services.may_manage_closures(request.user, country):
        raise PermissionDenied
    form = ClosureForm(data=request.POST)
    if form.is_valid():
        try:
            closure = services.declare_closure(
                actor=request.user,
                country=country,
                day=form.cleaned_data["date"],
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("The closure on %(date)s is declared: reply periods in working days to %(country)s skip it.")
                % {"date": for_people(closure.date), "country": country.name},
            )
            return redirect(f"{country.get_absolute_url()}#closures-heading")
    return _country_page(request, country, form)


@login_required
@require_http_methods(["GET", "POST"])
def closure_withdraw(request, code, pk):
    """A confirmation page, then the withdrawal (POST)."""
    country = get_object_or_404(Country, code=code.upper())
    closure = get_object_or_404(Closure.objects.select_related("declared_by__authority"), pk=pk, country=country)
    if not services.may_manage_closures(request.user, country):
        raise PermissionDenied
    now = timezone.now()
    if closure.date <= now.date():
        messages.error(
            request,
            _("The closure on %(date)s can no longer be withdrawn: a closure today or in the past is history.")
            % {"date": for_people(closure.date)},
        )
        return redirect(f"{country.get_absolute_url()}#closures-heading")
    if request.method == "POST":
        try:
            services.withdraw_closure(actor=request.user, closure=closure, now=now)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The closure on %(date)s is withdrawn: it is a working day again.")
                % {"date": for_people(closure.date)},
            )
        return redirect(f"{country.get_absolute_url()}#closures-heading")
    return render(request, "authorities/closure_withdraw.html", {"country": country, "closure": closure})


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


# --- the special surveillance list ----------------------------------------------------


def _require_authority(request):
    """The list is distributed to authorities only (national ones and INCB)."""
    if not request.user.authority_id:
        raise PermissionDenied


def _require_maintainer(request):
    if not surveillance.may_maintain(request.user):
        raise PermissionDenied


def _entry(code) -> Substance:
    return get_object_or_404(Substance, code=code, schedule=Schedule.SPECIAL_SURVEILLANCE)


@login_required
@require_GET
def surveillance_list(request):
    _require_authority(request)
    entries = list(Substance.objects.filter(schedule=Schedule.SPECIAL_SURVEILLANCE).order_by("name"))
    retired = [entry for entry in entries if not entry.active]
    retirements = surveillance.retirements(retired)
    for entry in retired:
        entry.retirement = retirements.get(entry.pk)
    return render(
        request,
        "authorities/surveillance.html",
        {
            "entries": [entry for entry in entries if entry.active],
            "retired": retired,
            "may_maintain": surveillance.may_maintain(request.user),
        },
    )


def _entry_form_page(request, form, entry=None):
    return render(
        request,
        "authorities/surveillance_form.html",
        {"form": form, "entry": entry, "errors": form.error_anchors()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def surveillance_add(request):
    _require_maintainer(request)
    form = SurveillanceEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = surveillance.add_entry(actor=request.user, data=form.cleaned_data, now=timezone.now())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("%(name)s is on the special surveillance list.") % {"name": entry.name})
            return redirect(reverse("authorities:surveillance") + f"#entry-{entry.code}")
    return _entry_form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def surveillance_edit(request, code):
    _require_maintainer(request)
    entry = _entry(code)
    initial = {field: getattr(entry, field) for field in surveillance.EDITABLE}
    form = SurveillanceEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = surveillance.change_entry(
                actor=request.user, substance=entry, data=form.cleaned_data, now=timezone.now()
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The entry %(name)s is saved.") % {"name": entry.name})
            return redirect(reverse("authorities:surveillance") + f"#entry-{entry.code}")
    return _entry_form_page(request, form, entry)


def _confirm(request, code, *, retire: bool):
    _require_maintainer(request)
    entry = _entry(code)
    if entry.active != retire:
        messages.error(
            request,
            (_("%(name)s is already retired.") if retire else _("%(name)s is on the list already."))
            % {"name": entry.name},
        )
        return redirect("authorities:surveillance")
    form = SurveillanceReasonForm(request.POST or None)
    form.fields["reason"].required = retire
    if not retire:
        form.optional_fields = ("reason",)
    if request.method == "POST" and form.is_valid():
        change = surveillance.retire_entry if retire else surveillance.reinstate_entry
        try:
            change(actor=request.user, substance=entry, now=timezone.now(), reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if retire:
                text = _("%(name)s is retired from the list; its history is kept.")
            else:
                text = _("%(name)s is on the list again.")
            messages.success(request, text % {"name": entry.name})
            return redirect(reverse("authorities:surveillance") + ("#retired-heading" if retire else ""))
    return render(
        request,
        "authorities/surveillance_confirm.html",
        {"entry": entry, "form": form, "retire": retire, "errors": form.error_anchors()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def surveillance_retire(request, code):
    """A confirmation page with the reason, then the retirement (POST)."""
    return _confirm(request, code, retire=True)


@login_required
@require_http_methods(["GET", "POST"])
def surveillance_reinstate(request, code):
    return _confirm(request, code, retire=False)


@login_required
@require_GET
def surveillance_history(request, code):
    _require_maintainer(request)
    entry = _entry(code)
    return render(
        request,
        "authorities/surveillance_history.html",
        {
            "entry": entry,
            "changes": [(change, surveillance.differences(change)) for change in surveillance.history(entry)],
        },
    )
