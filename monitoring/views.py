"""The estimates' pages and INCB's risk page. Thin: the figures from monitoring.estimates,
the writes through monitoring.services, the risk rows from monitoring.risk_page.

- ``/estimates/``: every authority reads the estimates in force for a year, with what is
  notified against them; INCB's staff also record, replace and import them.
- ``/estimates/<country>/<substance>/``: one estimate's history.
- ``/estimates/import/``: upload, a preview with each row's errors, then a confirmation
  that carries the checked rows signed (nothing is written before it, and a row changed
  in between is checked again).
- ``/risk/``: INCB's open flags on open notifications, with a CSV export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from authorities.models import Country, Substance
from web.exports import csv_lines
from web.forms import add_service_error, error_anchors

from . import estimates, risk_page, services
from .forms import EstimateFilterForm, EstimateForm, ImportForm, RiskFilterForm
from .models import EstimateSource

IMPORT_SALT = "monitoring.import"
IMPORT_MAX_AGE = 3600  # a preview confirmed within the hour
EXPORT_CAP = 10_000


def _incb_only(user):
    if not services.may_maintain(user):
        raise PermissionDenied


@login_required
@require_GET
def estimate_list(request):
    now = timezone.now()
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("year"):
        data["year"] = str(now.year)  # the year shown is the year the figures are for
    form = EstimateFilterForm(data, initial={"year": now.year})
    year, country = now.year, None
    if form.is_valid():
        year = form.cleaned_data.get("year") or now.year
        country = form.cleaned_data.get("country")
    own = getattr(getattr(request.user, "authority", None), "country_id", None)
    countries = [country.code] if country else estimates.countries_with_estimates(year)
    rows = estimates.rows(countries, year, with_missing=bool(country))
    return render(
        request,
        "monitoring/list.html",
        {
            "form": form,
            "year": year,
            "country": country,
            "rows": rows,
            "own_country": own,
            "may_maintain": services.may_maintain(request.user),
        },
    )


@login_required
@require_GET
def estimate_history(request, country, substance):
    country = get_object_or_404(Country, code=country.upper())
    substance = get_object_or_404(Substance, code=substance, alr_applicable=True)
    return render(
        request,
        "monitoring/history.html",
        {
            "country": country,
            "substance": substance,
            "history": estimates.history(country.code, substance.pk),
            "may_maintain": services.may_maintain(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def estimate_create(request):
    _incb_only(request.user)
    now = timezone.now()
    initial = {"year": now.year, "country": request.GET.get("country"), "substance": request.GET.get("substance")}
    form = EstimateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            estimate = services.record_estimate(
                actor=request.user,
                data=services.EstimateData(
                    country=data["country"].code,
                    substance=data["substance"].code,
                    year=data["year"],
                    quantity=data["quantity"],
                    valid_from=data.get("valid_from"),
                ),
                source=EstimateSource.PAGE,
                now=now,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "The estimate of %(country)s for %(substance)s in %(year)s is now %(quantity)s kg. The open "
                    "notifications' flags are being recomputed."
                )
                % {
                    "country": estimate.country.name,
                    "substance": estimate.substance.name,
                    "year": estimate.year,
                    "quantity": estimate.quantity,
                },
            )
            return redirect(reverse("monitoring:list") + f"?year={estimate.year}&country={estimate.country_id}")
    return render(
        request,
        "monitoring/form.html",
        {"form": form, "errors": error_anchors(form, "id_country")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def estimate_import(request):
    _incb_only(request.user)
    now = timezone.now()
    form = ImportForm()
    context = {}
    if request.method == "POST" and "confirm" in request.POST:
        try:
            table = signing.loads(request.POST.get("rows", ""), salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
        except signing.BadSignature:
            messages.error(request, _("That preview has expired or was changed. Upload the file again."))
            return redirect("monitoring:import")
        rows = services.check_rows(table, now=now)
        try:
            written = services.import_estimates(actor=request.user, rows=rows, now=now)
        except ValidationError:
            # Something changed since the preview (a country or substance): show it again.
            context.update(rows=rows, bad=[row for row in rows if row.errors])
        else:
            messages.success(
                request,
                _("%(count)s estimate(s) imported; the open notifications' flags are being recomputed.")
                % {"count": len(written)},
            )
            return redirect("monitoring:list")
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = services.read_table(upload.name, upload.read(), now=now)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                bad = [row for row in rows if row.errors]
                context.update(rows=rows, bad=bad, name=upload.name)
                if not bad:
                    context["signed"] = signing.dumps([row.values for row in rows], salt=IMPORT_SALT, compress=True)
    anchors = error_anchors(form, "id_file") + [
        (f"line-{row.line}", _("Line %(line)s") % {"line": row.line}) for row in context.get("bad", [])
    ]
    context.update(form=form, errors=anchors, columns=services.IMPORT_COLUMNS)
    return render(request, "monitoring/import.html", context)


def _risk_rows(request):
    if not (request.user.is_active and getattr(request.user, "is_incb", False)):
        raise Http404  # INCB's own page: to anyone else, as if there were none
    form = RiskFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in risk_page.SORTS:
        sort = ""
    signals = risk_page.ordered(
        risk_page.open_flags(
            kind=filters.get("kind") or None, country=filters.get("country"), substance=filters.get("substance")
        ),
        sort,
    )
    return form, sort, signals


@login_required
@require_GET
def risk_overview(request):
    form, sort, signals = _risk_rows(request)
    page = Paginator(signals, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/risk.html",
        {"form": form, "page": page, "columns": risk_page.columns(sort)},
    )


@login_required
@require_GET
def risk_csv(request):
    _form, _sort, signals = _risk_rows(request)
    response = StreamingHttpResponse(
        csv_lines(risk_page.csv_rows(signals[:EXPORT_CAP])), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="risk-flags-{timezone.now().date()}.csv"'
    return response
