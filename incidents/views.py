"""The incidents' pages: the list (filters: kind, country, substance, period) and the
incident's page (facts, route, substances, parties, the notifications behind it, its
history). Thin: access from incidents.access, matches from incidents.backtracking."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from authorities.models import Country, Substance
from notifications import access as notification_access
from web.forms import add_service_error, error_anchors

from . import access, backtracking, services
from .forms import IncidentForm
from .models import Incident, IncidentKind, IncidentSubstance, RouteStop
from .overview import overview


class IncidentFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *IncidentKind.choices])
    country = forms.ModelChoiceField(
        label=_("Country (reporting or on the route)"),
        required=False,
        queryset=Country.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Any country"),
    )
    substance = forms.ModelChoiceField(
        label=_("Substance"),
        required=False,
        queryset=Substance.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Any substance"),
    )
    occurred_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    occurred_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("country"):
            code = data["country"].code
            routed = RouteStop.objects.filter(country_id=code).values("incident_id")
            queryset = queryset.filter(Q(country_id=code) | Q(pk__in=routed))
        if data.get("substance"):
            named = IncidentSubstance.objects.filter(substance=data["substance"]).values("incident_id")
            queryset = queryset.filter(pk__in=named)
        if data.get("occurred_from"):
            queryset = queryset.filter(occurred_on__gte=data["occurred_from"])
        if data.get("occurred_to"):
            queryset = queryset.filter(occurred_on__lte=data["occurred_to"])
        return queryset


@login_required
@require_GET
def incident_list(request):
    filters = IncidentFilterForm(request.GET or None)
    incidents = access.visible_incidents(request.user).select_related("country")
    if filters.is_bound and filters.is_valid():
        incidents = filters.filter(incidents)
    page = Paginator(incidents.order_by("-occurred_on", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/list.html",
        {"filters": filters, "page": page, "may_report": access.may_report(request.user)},
    )


@login_required
@require_GET
def detail(request, reference):
    incident = access.get_incident_for(request.user, reference)
    incident = (
        Incident.objects.filter(pk=incident.pk)
        .select_related("country", "authority")
        .prefetch_related("substances__substance", "parties__country", "route_stops__country", "shared_with")
        .get()
    )
    matches = backtracking.matches(incident, notification_access.visible_notifications(request.user))
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "matches": matches[:100],
            "related": notification_access.visible_notifications(request.user).filter(
                pk__in=incident.related_notifications.values("pk")
            ),
            "events": incident.events.select_related("actor_authority"),
            "may_amend": access.may_amend(request.user, incident),
        },
    )


def _save(request, form, call):
    """Shape (the form), then the service; its errors beside their fields."""
    if not form.is_valid():
        return None
    try:
        return call(form.to_data())
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            error = ValidationError({form.form_key(key): messages for key, messages in error.message_dict.items()})
        add_service_error(form, error)
        return None


@login_required
def create(request):
    if not access.may_report(request.user):
        raise PermissionDenied
    form = IncidentForm(request.POST or None)
    if request.method == "POST":
        incident = _save(request, form, lambda data: services.report(actor=request.user, data=data, now=timezone.now()))
        if incident is not None:
            messages.success(request, _("Incident %(ref)s was reported.") % {"ref": incident.reference})
            return redirect(incident)
    return render(
        request,
        "incidents/form.html",
        {"form": form, "errors": error_anchors(form, "id_kind"), "incident": None},
        status=400 if form.errors else 200,
    )


@login_required
def amend(request, reference):
    incident = access.get_incident_for(request.user, reference)
    if not access.may_amend(request.user, incident):
        raise PermissionDenied
    if request.method == "POST":
        form = IncidentForm(request.POST)
        version = request.POST.get("version")

        def call(data):
            return services.amend(
                actor=request.user,
                incident=incident,
                data=data,
                now=timezone.now(),
                expected_version=int(version) if version and version.isdigit() else None,
            )

        try:
            updated = _save(request, form, call)
        except services.StaleVersion:
            form.add_error(None, _("Someone changed this incident since you opened it: check it and amend again."))
            updated = None
        if updated is not None:
            messages.success(request, _("Incident %(ref)s was amended.") % {"ref": incident.reference})
            return redirect(incident)
    else:
        form = IncidentForm(initial=IncidentForm.initial_from(services.stored_data(incident)))
    return render(
        request,
        "incidents/form.html",
        {"form": form, "errors": error_anchors(form, "id_kind"), "incident": incident},
        status=400 if form.errors else 200,
    )


def _overview_period(request, today):
    form = OverviewForm(request.GET or None)
    start, end = today.replace(day=1) - timedelta(days=335), today
    start = start.replace(day=1)
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    return form, start, end


class OverviewForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end comes before the start."))
        return data


@login_required
@require_GET
def overview_page(request):
    if not (request.user.is_active and request.user.is_incb):
        raise Http404
    form, start, end = _overview_period(request, timezone.now().date())
    figures = overview(access.visible_incidents(request.user), start=start, end=end)
    return render(request, "incidents/overview.html", {"form": form, "figures": figures, "start": start, "end": end})


@login_required
@require_GET
def overview_csv(request):
    if not (request.user.is_active and request.user.is_incb):
        raise Http404
    form, start, end = _overview_period(request, timezone.now().date())
    figures = overview(access.visible_incidents(request.user), start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incidents-{start}-{end}.csv"'
    writer = csv.writer(response)
    for row in figures.csv_rows():
        writer.writerow(row)
    return response
