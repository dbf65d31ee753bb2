"""The notification pages: thin adapters over notifications.services (every change) and
notifications.access (every read, and which actions to offer). Nothing here writes a model.

Every page of a notification starts with ``access.get_notification_for``, so a
notification the user may not see is the same 404 as one that does not exist."""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from authorities.models import Country
from web.dates import for_people
from web.forms import add_service_error, error_anchors
from web.uploads import limit_upload, upload_too_large

from . import access, exports, listing, risk, services, timeline
from .forms import (
    AmendmentForm,
    AnswerForm,
    AttachmentForm,
    FilingForm,
    LiftSuspensionForm,
    ListFilterForm,
    ReferenceSearchForm,
    ReplyForm,
    ShareForm,
    ShipmentForm,
    SuspendForm,
    VersionedForm,
    WithdrawForm,
    overdue_filter,
)
from .models import (
    FINAL_DECISIONS,
    OPEN_STATUSES,
    Action,
    Item,
    ResponseKind,
    RiskKind,
    Status,
    Suspension,
)
from .services import RESPONSE_ACTIONS

DASHBOARD_ROWS = 10
PAGE_SIZE = 25
# An export is every page of the list: past this many rows it is refused with a message
# (narrow the filters), so that one request cannot read a country's whole history.
EXPORT_MAX_ROWS = 10_000
EXPORT_CHUNK = 500  # rows read (and their items prefetched) at a time while exporting
RECENT_REPLIES = timedelta(days=30)
REPLY_ACTIONS = tuple(RESPONSE_ACTIONS.values())
STALE = gettext_lazy(
    "This notification changed since you opened it, so nothing was done. "
    "Below is what it looks like now: check it, then try again."
)


# --- lists ---------------------------------------------------------------------------------


ROW_RELATED = ("exporting_country", "importing_country", "exporting_authority")


def _rows(queryset, now, limit=None):
    """Notification rows with what every list shows: countries, items and the reply clock,
    in a fixed number of queries whatever the number of rows."""
    queryset = queryset.select_related(*ROW_RELATED).prefetch_related(
        Prefetch("items", queryset=Item.objects.select_related("substance"))
    )
    rows = list(queryset[: limit + 1] if limit else queryset)
    for row in rows:
        _set_clock(row, now)
    return rows


def _set_clock(notification, now):
    """What templates/notifications/_clock.html shows (templates cannot pass ``now``)."""
    notification.due_in = notification.days_left(now)
    notification.overdue = notification.is_overdue(now)
    notification.days_overdue = -notification.due_in if notification.overdue else 0


def _section(queryset, now):
    """A dashboard section: up to DASHBOARD_ROWS rows, and whether there are more."""
    rows = _rows(queryset, now, limit=DASHBOARD_ROWS)
    return {"rows": rows[:DASHBOARD_ROWS], "more": len(rows) > DASHBOARD_ROWS}


@login_required
@require_GET
def dashboard(request):
    user, now = request.user, timezone.now()
    if user.authority_id is None:
        return redirect("admin:index")  # an operator of the installation, who acts for no authority
    today = now.date()
    overdue = overdue_filter(today)
    if user.is_incb:
        sent = access.visible_notifications(user)
        # Rows marked "new" until someone of INCB opens them (the counts need no marker).
        marked = listing.with_new_marker(sent, user)
        return render(
            request,
            "notifications/dashboard_incb.html",
            {
                "counts": sent.aggregate(
                    awaiting=_count(status=Status.AWAITING_REPLY),
                    overdue=_count(overdue),
                    information_requested=_count(status=Status.INFORMATION_REQUESTED),
                    replied_recently=_count(status__in=FINAL_DECISIONS, replied_at__gte=now - RECENT_REPLIES),
                ),
                "overdue": _section(marked.filter(overdue).order_by("reply_due", "pk"), now),
                "recent": _section(marked.order_by("-submitted_at", "-pk"), now),
                # Suspensions in force (issue 12), oldest first: INCB follows them up.
                "suspensions": list(
                    Suspension.objects.filter(lifted_at__isnull=True)
                    .select_related("notification", "authority", "country")
                    .order_by("at", "pk")[:DASHBOARD_ROWS]
                ),
                "suspensions_count": Suspension.objects.filter(lifted_at__isnull=True).count(),
            },
        )

    # Incoming rows are marked "new" until someone of the authority opens them; outgoing
    # ones never are (listing.with_new_marker), so they need no marker.
    incoming = listing.with_new_marker(access.visible_notifications(user, role=access.Party.IMPORTING), user)
    outgoing = access.visible_notifications(user, role=access.Party.EXPORTING)
    routed = listing.with_new_marker(access.visible_notifications(user, role=access.Party.TRANSIT), user)
    # Disjoint tiers, each a plain range (a negated condition would defeat the index).
    late = Q(status=Status.AWAITING_REPLY, reply_due__lt=today)
    in_time = Q(status=Status.AWAITING_REPLY, reply_due__gte=today)
    asked = Q(status=Status.INFORMATION_REQUESTED)
    recent = Q(status__in=FINAL_DECISIONS, replied_at__gte=now - RECENT_REPLIES)
    sections = {
        # Only what waits on us: overdue first, then by due date.
        "incoming": _tiered_section(incoming, [late, in_time], ("reply_due", "pk"), now),
        # Where we asked the exporter for information: its move, not ours (the clock stops).
        "incoming_asked": _tiered_section(incoming, [asked], ("reply_due", "pk"), now),
        # Questions we must answer first, then the late replies to chase.
        "outgoing": _tiered_section(outgoing, [asked, late, in_time], ("reply_due", "pk"), now),
        # Routed through our country (read only), the newest sent first.
        "transit": _section(routed.order_by("-submitted_at", "-pk"), now),
    }
    return render(
        request,
        "notifications/dashboard.html",
        {
            **sections,
            # A transit authority with nothing of its own to do sees its transit section first.
            "transit_first": bool(sections["transit"]["rows"])
            and not any(sections[name]["rows"] for name in ("incoming", "incoming_asked", "outgoing")),
            # Both directions, newest reply first.
            "replies": _merged_section([incoming.filter(recent), outgoing.filter(recent)], ("-replied_at", "-pk"), now),
            "drafts": _section(outgoing.filter(status=Status.DRAFT).order_by("-updated_at", "-pk"), now),
            "recent_days": RECENT_REPLIES.days,
        },
    )


def _tiered_section(queryset, tiers, order, now):
    """A dashboard section whose rows come tier by tier (each tier ordered by ``order``).

    One small query per tier, each a range of an index (e.g. notif_outbox_due), instead of
    sorting every open notification of a busy authority on a computed priority: at a
    million notifications the exporter with 31,000 open ones reads 33 rows, not 31,000
    (docs/performance.md). The number of queries is fixed: one per tier, plus the items."""
    rows = []
    for tier in tiers:
        rows += queryset.filter(tier).select_related(*ROW_RELATED).order_by(*order)[: DASHBOARD_ROWS + 1]
    return _finish_section(rows[: DASHBOARD_ROWS + 1], now)


def _merged_section(querysets, order, now):
    """A dashboard section merging disjoint querysets, each read in index order."""
    key, pk = order[0].lstrip("-"), order[1].lstrip("-")
    rows = []
    for queryset in querysets:
        rows += queryset.select_related(*ROW_RELATED).order_by(*order)[: DASHBOARD_ROWS + 1]
    rows.sort(key=lambda n: (getattr(n, key), getattr(n, pk)), reverse=order[0].startswith("-"))
    return _finish_section(rows[: DASHBOARD_ROWS + 1], now)


def _finish_section(rows, now):
    prefetch_related_objects(rows, Prefetch("items", queryset=Item.objects.select_related("substance")))
    for row in rows:
        _set_clock(row, now)
    return {"rows": rows[:DASHBOARD_ROWS], "more": len(rows) > DASHBOARD_ROWS}


def _count(*args, **kwargs):
    return Count("pk", filter=Q(*args, **kwargs))


def _listed(request, now):
    """The list's filter form, and the rows it lists for it (every page), in its order: the
    one definition the page and its exports share."""
    user = request.user
    filters = ListFilterForm(request.GET, incb=user.is_incb)
    queryset = filters.filter(access.visible_notifications(user, role=filters.chosen_role()), today=now.date())
    return filters, listing.ordered(queryset, filters.chosen_sort())


def _page_of(paginator, number):
    """The page asked for, or the first one and why: a page that does not exist is said on
    the page, not silently replaced by another."""
    try:
        return paginator.page(number or 1), None
    except InvalidPage:
        message = _("There is no page “%(page)s” of this list (pages 1 to %(last)d). This is the first page.") % {
            "page": number,
            "last": paginator.num_pages,
        }
        return paginator.page(1), message


@login_required
@require_GET
def notification_list(request):
    user, now = request.user, timezone.now()
    filters, queryset = _listed(request, now)
    paginator = Paginator(listing.with_new_marker(queryset, user), PAGE_SIZE)
    page, page_error = _page_of(paginator, request.GET.get("page"))
    page.object_list = _rows(page.object_list, now)
    return render(
        request,
        "notifications/list.html",
        {
            "filters": filters,
            "page": page,
            "page_error": page_error,
            "sorting": listing.columns(filters.chosen_sort()),
            "sort_label": dict(listing.sort_choices())[filters.chosen_sort()],
            "export_max": EXPORT_MAX_ROWS,
        },
    )


def _export(request, write):
    """The list's rows for the same query string, every page of them, written by ``write``;
    or back to the list, which says why not (a filter's error, or too many rows)."""
    now = timezone.now()
    filters, queryset = _listed(request, now)
    back = reverse("notifications:list") + (f"?{request.GET.urlencode()}" if request.GET else "")
    if not filters.is_valid():
        return redirect(back)
    count = queryset.count()
    if count > EXPORT_MAX_ROWS:
        messages.error(
            request,
            _(
                "These filters list %(count)s notifications; an export holds at most %(max)s. "
                "Narrow the filters (for example by sent date or status) and export again."
            )
            % {"count": f"{count:,}", "max": f"{EXPORT_MAX_ROWS:,}"},
        )
        return redirect(back)
    rows = (
        queryset.select_related(*ROW_RELATED)
        .prefetch_related(Prefetch("items", queryset=Item.objects.select_related("substance")))
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    return write(rows, f"notifications-{now:%Y-%m-%d}")


@login_required
@require_GET
def list_csv(request):
    def write(rows, name):
        # Streamed: the first rows leave while the later ones are read, in chunks.
        response = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response

    return _export(request, write)


@login_required
@require_GET
def list_xlsx(request):
    def write(rows, name):
        response = HttpResponse(
            exports.to_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        response["Cache-Control"] = "private, no-store"
        return response

    return _export(request, write)


# --- finding a notification by its reference (the header's search box) --------------------

SEARCH_ROWS = 25


@login_required
@require_GET
def search(request):
    """A whole reference the user may see opens the notification; anything else lists the
    visible notifications whose reference (or the exporter's own reference) contains what
    was typed. Only visible rows are ever read, so a notification the user may not see
    gives the very page a reference that does not exist gives."""
    user, now = request.user, timezone.now()
    form = ReferenceSearchForm(request.GET)
    term = form.term()
    if not term:
        return render(request, "notifications/search.html", {"form": form, "term": "", "rows": []})
    visible = access.visible_notifications(user)
    found = visible.filter(reference=form.whole_reference()).first()
    if found is not None:
        return redirect(found)
    matches = listing.with_new_marker(
        visible.filter(Q(reference__contains=form.fragment()) | Q(national_reference__icontains=term)), user
    ).order_by("-created_at", "-pk")
    rows = _rows(matches, now, limit=SEARCH_ROWS)
    return render(
        request,
        "notifications/search.html",
        {"form": form, "term": term, "rows": rows[:SEARCH_ROWS], "more": len(rows) > SEARCH_ROWS},
    )


# --- filing --------------------------------------------------------------------------------


def _filing_page(request, filing, notification=None):
    code = (filing.main["importing_country"].value() or "").upper()
    country = Country.objects.filter(code=code).first() if code else None
    return render(
        request,
        "notifications/form.html",
        {
            "filing": filing,
            "form": filing.main,
            "notification": notification,
            # The importing country's silence record is timeliness's figure, drawn by its tag.
            "importing_country": country,
            "today": timezone.now().date(),
        },
    )


def _save_filing(filing, save, *, exporting_authority, now, draft=None, complete=False):
    """Validate the page and call ``save(data)``; on any mistake, the page again with every
    error beside its field and nothing typed lost. Returns the notification, or None when
    the page must be shown again. ``complete``: judged as for sending (see _completes)."""
    shape_ok = filing.is_valid()
    data = filing.to_data()
    try:
        if shape_ok:
            return save(data)
        # The shape is wrong somewhere: still let the service judge the rest, so the
        # officer sees every mistake at once.
        services.validate_notification_data(data, exporting_authority=exporting_authority, now=now, complete=complete)
    except ValidationError as error:
        filing.add_service_error(error)
    except services.StaleVersion:
        draft.refresh_from_db(fields=["version"])
        filing.mark_stale(draft.version)
    return None


def _completes(action) -> bool:
    """Whether the filing page's ``action`` needs a complete notification. "Save as draft"
    keeps whatever is filled in (issue 18); "Review before sending" is the first step of
    sending, so it asks for everything sending needs, all at once."""
    return action == "review"


def _after_save(request, notification, action, now):
    if action == "review":
        messages.info(
            request,
            _("Check the notification below. It has not been sent: send it to %(country)s or go back to edit it.")
            % {"country": notification.importing_country.name},
        )
        return redirect(reverse("notifications:detail", args=[notification.reference]) + "#review")
    if services.sending_problems(notification, now=now):
        message = _(
            "The draft %(ref)s is saved. It has not been sent: what it still needs before it can be sent is "
            "listed below. Complete it whenever you have the details."
        )
    else:
        message = _("The draft %(ref)s is saved. It has not been sent: review it and send it when you are ready.")
    messages.success(request, message % {"ref": notification.reference})
    return redirect(notification)


def _sending_problems(notification, now) -> list[tuple[str, str]]:
    """What sending this draft still needs, as (link to the field on the edit page, the
    message naming the field as the error summary does): for the pages that offer to send."""
    problems = services.sending_problems(notification, now=now)
    if not problems:
        return []
    filing = FilingForm.for_draft(notification, today=now.date())
    filing.show_sending_problems(problems)
    edit = _complete_url(notification)
    return [(f"{edit}#{anchor}", message) for anchor, message in filing.error_anchors()]


def _complete_url(notification) -> str:
    """The edit page showing what sending still needs beside each field."""
    return reverse("notifications:edit", args=[notification.reference]) + "?check=sending"


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    user, now = request.user, timezone.now()
    if not user.can_act:  # officers of a national authority; INCB files nothing
        raise PermissionDenied
    if request.method == "GET":
        # ?kind=voluntary: "Send a voluntary notification" starts with that kind chosen.
        return _filing_page(request, FilingForm.blank(today=now.date(), kind=request.GET.get("kind")))
    filing = FilingForm(request.POST, today=now.date())
    action = request.POST.get("action")
    if action == "add_item":
        return _filing_page(request, filing.with_another_row())
    complete = _completes(action)
    notification = _save_filing(
        filing,
        lambda data: services.file_notification(actor=user, data=data, draft=True, now=now, require_complete=complete),
        exporting_authority=user.authority,
        now=now,
        complete=complete,
    )
    if notification is None:
        return _filing_page(request, filing)
    return _after_save(request, notification, action, now)


# --- actions on one notification -------------------------------------------------------------


def notification_action(*actions, methods=("POST",)):
    """The frame of every page that acts on one notification: visible or 404; one of
    ``actions`` allowed now (by access.allowed_actions), else 403 for a party that may
    never do it, or a message when the state does not allow it; and a service's Conflict,
    StaleVersion or ValidationError turned into a message on the notification's page."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, reference, **kwargs):
            notification = access.get_notification_for(request.user, reference)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            allowed = access.allowed_actions(request.user, notification)
            if not any(action in allowed for action in actions):
                if not any(access.may_act_as(request.user, notification, action) for action in actions):
                    raise PermissionDenied
                if request.method == "POST" and _posted_version(request) not in (None, notification.version):
                    messages.error(request, STALE)
                else:
                    messages.error(
                        request,
                        _("This cannot be done now: the notification's status is “%(status)s”.")
                        % {"status": notification.get_status_display()},
                    )
                return redirect(notification)
            try:
                return view(request, notification, **kwargs)
            except services.StaleVersion:
                messages.error(request, STALE)
            except services.Conflict as error:
                messages.error(request, str(error))
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            return redirect(notification)

        return wrapper

    return decorate


def _posted_version(request):
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


@login_required
@require_GET
def detail(request, reference):
    notification = access.get_notification_for(request.user, reference)
    parties = access.parties_of(request.user, notification)
    # Opened by someone of the authority: no longer "new" to any of its users.
    services.record_opened(actor=request.user, notification=notification, now=timezone.now(), parties=parties)
    return _detail_page(request, notification, parties=parties)


@login_required
@require_GET
def print_view(request, reference):
    """The notification on one printable page: reference and parties first, then items,
    route, status and dates, the timeline in short. Whoever may read the detail may print
    it (the same 404 otherwise); it shows the same events the detail shows that party."""
    notification = access.get_notification_for(request.user, reference)
    parties = access.parties_of(request.user, notification)
    return render(
        request,
        "notifications/print.html",
        {
            "notification": notification,
            "items": notification.items.select_related("substance"),
            "transits": notification.transits.select_related("country"),
            "responses": notification.responses.select_related("authority"),
            "events": access.visible_events(parties, notification.events.select_related("actor_authority")),
            "printed_at": timezone.now(),
        },
    )


def _detail_page(request, notification, parties=None, **forms):
    user, now = request.user, timezone.now()
    # Read once: the actions, the banner and the history all look at the suspensions.
    prefetch_related_objects([notification], "suspensions__authority")
    allowed = access.allowed_actions(user, notification, now=now)
    parties = access.parties_of(user, notification) if parties is None else parties
    can = {action: True for action in allowed}
    risk_signals = list(notification.risk_signals.all())
    # A quantity difference is explained by either side of the shipment (services.explain_discrepancy).
    can["explain_discrepancy"] = (
        getattr(user, "can_act", False)
        and bool(parties & {access.Party.IMPORTING, access.Party.EXPORTING})
        and any(s.kind == RiskKind.QUANTITY_DISCREPANCY and s.resolved_at is None for s in risk_signals)
    )
    decisions = _decisions(allowed)
    can["reply"] = bool(decisions)
    initial = {"version": notification.version}
    _set_clock(notification, now)
    context = {
        "notification": notification,
        "parties": parties,
        "can": can,
        "items": notification.items.select_related("substance"),
        "transits": notification.transits.select_related("country"),
        "responses": notification.responses.select_related("user", "authority"),
        # Only the events this party may see (INCB's follow-ups, the exporter's shares).
        "events": access.visible_events(parties, notification.events.select_related("actor", "actor_authority")),
        "attachments": notification.attachments.all(),
        "risk_signals": risk_signals,
        "suspension": access.suspension_in_force(notification),
        "past_suspensions": [s for s in notification.suspensions.all() if s.lifted_at is not None],
        "version_form": VersionedForm(initial=initial),
    }
    if can["reply"]:
        context["reply_form"] = forms.get("reply_form") or ReplyForm(initial=initial, decisions=decisions)
    if can.get(Action.PROVIDE_INFORMATION):
        context["answer_form"] = forms.get("answer_form") or AnswerForm(initial=initial)
        context["open_question"] = (
            notification.responses.filter(kind=ResponseKind.INFORMATION_REQUESTED).order_by("-created_at").first()
        )
    if can.get(Action.ATTACH):
        context["upload_form"] = forms.get("upload_form") or AttachmentForm()
    if can.get(Action.SHARE):
        shares = list(access.shared_authorities(notification))
        context["shares"] = shares
        context["share_form"] = forms.get("share_form") or ShareForm(
            exclude=[notification.exporting_authority_id, *(a.pk for a in shares)]
        )
    if can.get(Action.SUBMIT):
        context["send_reply_due"] = _reply_due_if_sent(notification, now)
        # A draft saved incomplete lists what it still needs instead of a "Send" button.
        context["sending_problems"] = _sending_problems(notification, now)
        context["complete_url"] = _complete_url(notification)
        if not context["sending_problems"]:
            # What sending would raise, before it is sent (the exporter may still send).
            context["risk_preview"] = risk.preview(notification, now=now)
    if parties & {access.Party.EXPORTING, access.Party.INCB} and notification.status in (
        Status.DRAFT,
        *OPEN_STATUSES,
    ):
        # Whoever decides whether to ship, or follows silence up, sees the country's record.
        context["show_silence_record"] = True
        context["today"] = now.date()
    return render(request, "notifications/detail.html", context)


def _decisions(allowed):
    return [kind for kind, action in RESPONSE_ACTIONS.items() if action in allowed]


def _reply_due_if_sent(notification, now):
    """The reply-due date if sent today (None: a draft without an importing country yet,
    or a voluntary notification without a deadline)."""
    if notification.reply_due or notification.importing_country is None or notification.kind == "voluntary":
        return notification.reply_due
    return notification.importing_country.earliest_reply_due(now.date())


@notification_action(Action.EDIT_DRAFT, methods=("GET", "POST"))
def edit(request, notification):
    user, now = request.user, timezone.now()
    if request.method == "GET":
        filing = FilingForm.for_draft(notification, today=now.date())
        if request.GET.get("check") == "sending":
            # Opened from a refused send or the draft's list of what is missing: say it
            # beside each field, as a refused "Review before sending" would.
            filing.show_sending_problems(services.sending_problems(notification, now=now))
        return _filing_page(request, filing, notification)
    filing = FilingForm(request.POST, today=now.date())
    action = request.POST.get("action")
    if action == "add_item":
        return _filing_page(request, filing.with_another_row(), notification)
    complete = _completes(action)
    saved = _save_filing(
        filing,
        lambda data: services.update_draft(
            actor=user,
            notification=notification,
            data=data,
            now=now,
            expected_version=filing.main.cleaned_data.get("version"),
            require_complete=complete,
        ),
        exporting_authority=notification.exporting_authority,
        now=now,
        draft=notification,
        complete=complete,
    )
    if saved is None:
        return _filing_page(request, filing, notification)
    return _after_save(request, saved, action, now)


def _confirm_page(request, notification, template, **context):
    return render(request, template, {"notification": notification, **context})


@notification_action(Action.SUBMIT, methods=("GET", "POST"))
def send(request, notification):
    now = timezone.now()
    form = VersionedForm(request.POST or None, initial={"version": notification.version})
    if request.method == "GET" or not form.is_valid():
        return _confirm_page(
            request,
            notification,
            "notifications/confirm_send.html",
            form=form,
            reply_due=_reply_due_if_sent(notification, now),
            transits=notification.transits.select_related("country"),
            # An incomplete draft gets the list of what is missing, not a button that fails.
            problems=_sending_problems(notification, now),
            complete_url=_complete_url(notification),
            risk_preview=risk.preview(notification, now=now),
        )
    try:
        notification = services.submit(
            actor=request.user, notification=notification, now=now, expected_version=form.expected_version()
        )
    except ValidationError:
        # Saved incomplete, or aged since (its dispatch date passed): every field sending
        # still needs, marked on the edit page.
        messages.error(
            request,
            _(
                "%(ref)s is not sent: it still needs what is marked below. Complete it, then choose "
                "“Review before sending”."
            )
            % {"ref": notification.reference},
        )
        return redirect(_complete_url(notification))
    messages.success(
        request,
        _(
            "%(ref)s is sent to %(country)s. %(authority)s is told by e-mail; its reply is due %(date)s. You will "
            "be told when it replies or asks for information, and the portal reminds it before the due date and "
            "chases it if the reply is late."
        )
        % {
            "ref": notification.reference,
            "country": notification.importing_country.name,
            "authority": notification.importing_authority.name,
            "date": for_people(notification.reply_due),
        },
    )
    return redirect(notification)


@notification_action(Action.DELETE_DRAFT, methods=("GET", "POST"))
def delete(request, notification):
    if request.method == "GET":
        return _confirm_page(request, notification, "notifications/confirm_delete.html")
    services.delete_draft(actor=request.user, notification=notification, now=timezone.now())
    messages.success(request, _("The draft %(ref)s is deleted.") % {"ref": notification.reference})
    return redirect("notifications:dashboard")


@notification_action(Action.ACKNOWLEDGE)
def acknowledge(request, notification):
    form = VersionedForm(request.POST)
    notification = services.acknowledge(
        actor=request.user, notification=notification, now=timezone.now(), expected_version=form.expected_version()
    )
    # Said plainly that this is not the reply, and what is still owed (issue 18, defect 5).
    told = {"authority": notification.exporting_authority.name, "date": for_people(notification.reply_due)}
    if notification.status == Status.AWAITING_REPLY:
        message = _(
            "Receipt is acknowledged, and %(authority)s is told by e-mail. This is not a reply: your reply is "
            "still due %(date)s."
        )
    else:
        message = _("Receipt is acknowledged, and %(authority)s is told by e-mail. This is not a reply.")
    messages.success(request, message % told)
    return redirect(notification)


@notification_action(*REPLY_ACTIONS, methods=("GET", "POST"))
def reply(request, notification):
    """The reply form. A final decision (no objection, objection) cannot be taken back,
    so it is shown once more for confirmation; a request for information is sent at once."""
    decisions = _decisions(access.allowed_actions(request.user, notification))
    form = ReplyForm(request.POST or None, initial={"version": notification.version}, decisions=decisions)
    confirmed = request.POST.get("confirm") == "yes"
    if request.method == "GET" or request.POST.get("action") == "back" or not form.is_valid():
        return _reply_page(request, notification, form)
    if form.is_final and not confirmed:
        return _confirm_page(request, notification, "notifications/confirm_reply.html", form=form)
    try:
        notification = services.respond(
            actor=request.user,
            notification=notification,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
            expected_version=form.expected_version(),
        )
    except ValidationError as error:
        add_service_error(form, error)
        return _reply_page(request, notification, form)
    messages.success(request, _reply_sent_message(notification, form.cleaned_data["decision"]))
    return redirect(notification)


def _reply_sent_message(notification, decision) -> str:
    """What happens next after a reply (issue 18, defect 5): a request for information is not
    the final reply, and stops the clock until the exporter answers (services.respond,
    services.provide_information); a final reply cannot be changed."""
    told = {
        "authority": notification.exporting_authority.name,
        "date": for_people(notification.reply_due),
        "decision": ResponseKind(decision).label,
    }
    if decision == ResponseKind.INFORMATION_REQUESTED:
        return (
            _(
                "Your question is sent to %(authority)s, which is told by e-mail. This is not your final reply: "
                "the reply clock is stopped until they answer, and you are told by e-mail when they do. The "
                "reply-due date, %(date)s, then moves by the days the question was open."
            )
            % told
        )
    return (
        _(
            "Your final reply, “%(decision)s”, is sent to %(authority)s, which is told by e-mail. It cannot be "
            "changed or withdrawn."
        )
        % told
    )


def _reply_page(request, notification, form):
    return render(
        request,
        "notifications/reply.html",
        {
            "notification": notification,
            "form": form,
            "errors": error_anchors(form, "reply-form") if form.is_bound else [],
            "items": notification.items.select_related("substance"),
        },
    )


@notification_action(Action.PROVIDE_INFORMATION)
def answer(request, notification):
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answered = services.provide_information(
                actor=request.user,
                notification=notification,
                comment=form.cleaned_data["comment"],
                now=timezone.now(),
                expected_version=form.expected_version(),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your answer is sent to %(authority)s, which is told by e-mail. Its reply clock runs again: the "
                    "reply is now due %(date)s, moved by the days the question was open. You are told when it "
                    "replies."
                )
                % {"authority": answered.importing_authority.name, "date": for_people(answered.reply_due)},
            )
            return redirect(answered)
    return _detail_page(request, notification, answer_form=form)


@notification_action(Action.WITHDRAW, methods=("GET", "POST"))
def withdraw(request, notification):
    form = WithdrawForm(request.POST or None, initial={"version": notification.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(
                actor=request.user,
                notification=notification,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
                expected_version=form.expected_version(),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(ref)s is withdrawn, and %(authority)s is told by e-mail. It can no longer be replied to, and "
                    "this cannot be undone: if the export goes ahead after all, file a new notification."
                )
                % {"ref": notification.reference, "authority": notification.importing_authority.name},
            )
            return redirect(notification)
    return _confirm_page(
        request,
        notification,
        "notifications/confirm_withdraw.html",
        form=form,
        errors=error_anchors(form, "withdraw-form") if form.is_bound else [],
    )


def _changes_digest(changes) -> str:
    """A fingerprint of an amendment's changes, carried from its review to its saving."""
    text = json.dumps({key: [str(old), str(new)] for key, (old, new) in changes.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@notification_action(Action.AMEND, methods=("GET", "POST"))
def amend(request, notification):
    """Amend a sent notification still awaiting its reply: what may change, prefilled; what
    may not, shown and explained. Two steps: the changes are shown before and after, then
    saved and told to the importing and transit authorities. The reply clock runs on."""
    now = timezone.now()
    stored = services.stored_data(notification)
    form = AmendmentForm(
        request.POST if request.method == "POST" else None, stored=stored, initial={"version": notification.version}
    )
    review, digest = [], ""
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.check_amendment(notification, form.to_data(), now=now)
            digest = _changes_digest(changes)
            if "confirm" not in request.POST or request.POST.get("reviewed") != digest:
                # Saved only as reviewed: a value changed after the review is reviewed again.
                review = [
                    (services.amendment_label(key), services.amendment_value(old), services.amendment_value(new))
                    for key, (old, new) in changes.items()
                ]
                if not changes:
                    form.add_error(None, _("Nothing is changed yet: these are the values already sent."))
            else:
                amended = services.amend(
                    actor=request.user,
                    notification=notification,
                    data=form.to_data(),
                    now=now,
                    expected_version=form.expected_version(),
                )
                if amended.version == notification.version:
                    messages.info(request, _("Nothing was changed: the values are the ones already sent."))
                else:
                    messages.success(
                        request,
                        _(
                            "%(ref)s is amended. %(authority)s and the transit countries' authorities are told by "
                            "e-mail; the reply is still due on %(due)s."
                        )
                        % {
                            "ref": notification.reference,
                            "authority": notification.importing_authority.name,
                            "due": for_people(amended.reply_due),
                        },
                    )
                return redirect(reverse("notifications:detail", args=[notification.reference]) + "#timeline")
        except ValidationError as error:
            form.add_service_error(error)
    return render(
        request,
        "notifications/amend.html",
        {
            "notification": notification,
            "n": notification,
            "form": form,
            "stored": stored,
            "review": review,
            "reviewed": digest if review else "",
            "item_rows": list(zip(form.item_rows, notification.items.select_related("substance"), strict=True)),
            "errors": error_anchors(form, "amend-form") if form.is_bound else [],
        },
    )


class _DryRun(Exception):
    """Raised to roll a service call back: the review step checks without storing."""


def _check_only(call) -> None:
    """Run ``call`` (a service) and roll everything back, messages included (the outbox
    enqueues after commit): its ValidationError or Conflict is what saving would answer."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass


def _shipment_page(request, notification, stage: str):
    """Record the dispatch (the exporting authority) or confirm the arrival (the importing
    one): the date and every item's quantity, checked and shown once more before it is
    recorded, because neither can be changed afterwards."""
    now = timezone.now()
    items = list(notification.items.select_related("substance"))
    form = ShipmentForm(
        request.POST if request.method == "POST" else None,
        stage=stage,
        items=items,
        initial={"version": notification.version},
    )
    review = None

    def record():
        common = {
            "actor": request.user,
            "notification": notification,
            "quantities": form.quantities(),
            "now": now,
            "expected_version": form.expected_version(),
        }
        if stage == "dispatch":
            return services.dispatch(dispatched_on=form.cleaned_data["on"], **common)
        return services.confirm_arrival(
            arrived_on=form.cleaned_data["on"], comment=form.cleaned_data.get("comment", ""), **common
        )

    if request.method == "POST" and form.is_valid():
        try:
            if "confirm" in request.POST:
                record()
                if stage == "dispatch":
                    text = _("The dispatch is recorded, and %(authority)s is told. It confirms the arrival next.") % {
                        "authority": notification.importing_authority.name
                    }
                else:
                    text = _("The arrival is confirmed, and %(authority)s is told.") % {
                        "authority": notification.exporting_authority.name
                    }
                messages.success(request, text)
                return redirect(reverse("notifications:detail", args=[notification.reference]) + "#shipment-stage")
            _check_only(record)
            review = {
                "on": form.cleaned_data["on"],
                "rows": [
                    (
                        item,
                        form.cleaned_data[field.name],
                        stage == "arrival" and services.differs(item.shipped_quantity, form.cleaned_data[field.name]),
                    )
                    for item, field in form.item_rows
                ],
            }
        except ValidationError as error:
            form.add_service_error(error)
    return render(
        request,
        "notifications/shipment_stage.html",
        {
            "notification": notification,
            "n": notification,
            "form": form,
            "stage": stage,
            "review": review,
            "errors": error_anchors(form, "shipment-form") if form.is_bound else [],
        },
    )


@notification_action(Action.DISPATCH, methods=("GET", "POST"))
def record_dispatch(request, notification):
    return _shipment_page(request, notification, "dispatch")


@notification_action(Action.CONFIRM_ARRIVAL, methods=("GET", "POST"))
def confirm_arrival(request, notification):
    return _shipment_page(request, notification, "arrival")


@login_required
@require_http_methods(["POST"])
def explain_discrepancy(request, reference):
    notification = access.get_notification_for(request.user, reference)
    comment = request.POST.get("comment", "")
    try:
        services.explain_discrepancy(actor=request.user, notification=notification, comment=comment, now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except services.Conflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The explanation is recorded and the quantity difference is resolved."))
    return redirect(reverse("notifications:detail", args=[notification.reference]) + "#shipment-stage")


@notification_action(Action.SUSPEND, methods=("GET", "POST"))
def suspend(request, notification):
    """Suspend the consignment pending verification, after a confirmation page that says
    who will be told and what it means."""
    form = SuspendForm(request.POST or None, initial={"version": notification.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.suspend(
                actor=request.user, notification=notification, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "The consignment of %(ref)s is suspended. Every party and INCB is told at once; only your "
                    "authority can lift the suspension."
                )
                % {"ref": notification.reference},
            )
            return redirect(notification)
    return _confirm_page(
        request,
        notification,
        "notifications/confirm_suspend.html",
        form=form,
        errors=error_anchors(form, "suspend-form") if form.is_bound else [],
    )


@notification_action(Action.LIFT_SUSPENSION, methods=("GET", "POST"))
def lift_suspension(request, notification):
    form = LiftSuspensionForm(request.POST or None, initial={"version": notification.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.lift_suspension(
                actor=request.user, notification=notification, comment=form.cleaned_data["comment"], now=timezone.now()
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The suspension is lifted, and every party and INCB is told."))
            return redirect(notification)
    return _confirm_page(
        request,
        notification,
        "notifications/confirm_lift_suspension.html",
        form=form,
        suspension=access.suspension_in_force(notification),
        errors=error_anchors(form, "lift-form") if form.is_bound else [],
    )


@notification_action(Action.SHARE)
def share(request, notification):
    shared = access.shared_authorities(notification).values_list("pk", flat=True)
    form = ShareForm(request.POST, exclude=[notification.exporting_authority_id, *shared])
    if form.is_valid():
        authority = form.chosen_authority()
        try:
            services.share(actor=request.user, notification=notification, authority=authority, now=timezone.now())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(authority)s can now read this notification.") % {"authority": authority.name}
            )
            return redirect(reverse("notifications:detail", args=[notification.reference]) + "#shares")
    return _detail_page(request, notification, share_form=form)


@notification_action(Action.SHARE)
def revoke_share(request, notification, code):
    authority = access.shared_authorities(notification).filter(code=code).first()
    if authority is None:
        raise Http404
    services.revoke_share(actor=request.user, notification=notification, authority=authority, now=timezone.now())
    messages.success(request, _("%(authority)s can no longer read this notification.") % {"authority": authority.name})
    return redirect(reverse("notifications:detail", args=[notification.reference]) + "#shares")


@limit_upload("ATTACHMENT_MAX_BYTES")
@notification_action(Action.ATTACH)
def upload_attachment(request, notification):
    """A file over ATTACHMENT_MAX_BYTES is refused while it arrives (web.uploads): the page
    again, 413, the error beside the file field, nothing stored. That check comes first:
    a body refused by its Content-Length alone reaches here without a CSRF check."""
    form = AttachmentForm(request.POST, request.FILES)
    if upload_too_large(request):
        form.is_valid()
        form.errors.pop("file", None)  # not "required": the file was sent, and refused
        add_service_error(form, services.attachment_too_large(settings.ATTACHMENT_MAX_BYTES))
        response = _detail_page(request, notification, upload_form=form)
        response.status_code = 413
        return response
    if form.is_valid():
        try:
            attachment = services.add_attachment(
                actor=request.user,
                notification=notification,
                upload=form.cleaned_data["file"],
                now=timezone.now(),
                max_bytes=settings.ATTACHMENT_MAX_BYTES,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("“%(name)s” is attached.") % {"name": attachment.original_name})
            return redirect(reverse("notifications:detail", args=[notification.reference]) + "#attachments")
    return _detail_page(request, notification, upload_form=form)


@login_required
@require_GET
def download_attachment(request, reference, token):
    """The stored file, to those who may see the notification; never served statically."""
    notification = access.get_notification_for(request.user, reference)
    attachment = notification.attachments.filter(token=token).first()
    if attachment is None:
        raise Http404
    # The sniffed type, and the name with its extension; FileResponse writes the name
    # quoted (ASCII) or RFC 5987-encoded (filename*=utf-8''...), never raw.
    filename, content_type = services.served_attachment(attachment)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    # Here whatever SECURE_CONTENT_TYPE_NOSNIFF says: the body is a user's upload.
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def timeline_export(request, reference):
    """One notification's timeline as JSON, with every event's hash and the chain's head, for
    a third party to verify with the canonical form it states (notifications.timeline). For
    whoever may see the notification (INCB, the parties: the detail page already shows them
    the timeline); the same 404 as a missing one otherwise."""
    notification = access.get_notification_for(request.user, reference)
    parties = access.parties_of(request.user, notification)
    body = timeline.export(notification, may_see=lambda kind: access.may_see_event(parties, kind))
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="{notification.reference}-timeline.json"'
    response["Cache-Control"] = "private, no-store"
    return response
