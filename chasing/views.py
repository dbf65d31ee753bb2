"""INCB's follow-up queue: silent notifications by importing country, oldest first."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities.models import Authority
from notifications import access

from . import services
from .forms import QueueFilterForm
from .models import FollowUp, FollowUpChannel


def _incb_only(user):
    if not (user.is_active and user.is_incb):
        raise Http404


@login_required
def queue(request):
    _incb_only(request.user)
    today = timezone.now().date()
    notifications = (
        access.follow_up_queue(request.user, today=today)
        .select_related("importing_country", "exporting_country", "exporting_authority")
        .prefetch_related(Prefetch("follow_ups", queryset=FollowUp.objects.select_related("user")))
        .order_by("importing_country__name", "reply_due", "pk")
    )
    filters = QueueFilterForm(request.GET)
    country = filters.chosen_country()
    if country is not None:
        notifications = notifications.filter(importing_country_id=country.code)
    focal_points = {a.country_id: a for a in Authority.objects.filter(is_focal_point=True).select_related("country")}
    groups = []
    for country_obj, rows in groupby(notifications, key=lambda n: n.importing_country):
        rows = list(rows)
        for n in rows:
            n.days_overdue = (today - n.reply_due).days
        groups.append({"country": country_obj, "focal_point": focal_points.get(country_obj.code), "rows": rows})
    # The country with the oldest silence first.
    groups.sort(key=lambda g: min(n.reply_due for n in g["rows"]))
    return render(
        request,
        "chasing/queue.html",
        {
            "groups": groups,
            "channels": FollowUpChannel.choices,
            "filters": filters,
            "country": country,
            "today": today,
        },
    )


@login_required
def follow_up(request, reference):
    _incb_only(request.user)
    if request.method != "POST":
        return redirect("followup:queue")
    notification = access.get_notification_for(request.user, reference)
    try:
        services.record_follow_up(
            actor=request.user,
            notification=notification,
            channel=request.POST.get("channel", ""),
            note=request.POST.get("note", ""),
            now=timezone.now(),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Follow-up of %(ref)s recorded.") % {"ref": reference})
    return redirect(f"{reverse('followup:queue')}#n-{reference}")
