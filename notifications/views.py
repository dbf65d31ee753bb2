"""The notification pages: thin adapters over notifications.services (every change) and
notifications.access (every read, and which actions to offer). Nothing here writes a model.

Every page of a notification starts with ``access.get_notification_for``, so a
notification the user may not see is the same 404 as one that does not exist."""

import functools
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from authorities.models import Authority, Country
from web.forms import add_service_error, error_anchors
from web.uploads import limit_upload, upload_too_large

from . import access, services, timeline
from .forms import (
    AnswerForm,
    AttachmentForm,
    FilingForm,
    ListFilterForm,
    ReplyForm,
    ShareForm,
    VersionedForm,
    WithdrawForm,
    overdue_filter,
)
from .models import (
    FINAL_DECISIONS,
    OPEN_STATUSES,
    Action,
    Item,
    NotificationGroupObjectPermission,
    ResponseKind,
    Status,
)
from .services import RESPONSE_ACTIONS

DASHBOARD_ROWS = 10
PAGE_SIZE = 25
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
                "overdue": _section(sent.filter(overdue).order_by("reply_due", "pk"), now),
                "recent": _section(sent.order_by("-submitted_at", "-pk"), now),
            },
        )

    incoming = access.visible_notifications(user, role=access.Party.IMPORTING)
    outgoing = access.visible_notifications(user, role=access.Party.EXPORTING)
    # Disjoint tiers, each a plain range (a negated condition would defeat the index).
    late = Q(status=Status.AWAITING_REPLY, reply_due__lt=today)
    in_time = Q(status=Status.AWAITING_REPLY, reply_due__gte=today)
    asked = Q(status=Status.INFORMATION_REQUESTED)
    recent = Q(status__in=FINAL_DECISIONS, replied_at__gte=now - RECENT_REPLIES)
    return render(
        request,
        "notifications/dashboard.html",
        {
            # Our move first: overdue, then by due date; those waiting on the exporter last.
            "incoming": _tiered_section(incoming, [late, in_time, asked], ("reply_due", "pk"), now),
            # Questions we must answer first, then the late replies to chase.
            "outgoing": _tiered_section(outgoing, [asked, late, in_time], ("reply_due", "pk"), now),
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


@login_required
@require_GET
def notification_list(request):
    user, now = request.user, timezone.now()
    filters = ListFilterForm(request.GET, incb=user.is_incb)
    queryset = filters.filter(access.visible_notifications(user, role=filters.chosen_role()), today=now.date())
    page = Paginator(queryset.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _rows(page.object_list, now)
    return render(request, "notifications/list.html", {"filters": filters, "page": page})


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


def _save_filing(filing, save, *, exporting_authority, now, draft=None):
    """Validate the page and call ``save(data)``; on any mistake, the page again with every
    error beside its field and nothing typed lost. Returns the notification, or None when
    the page must be shown again."""
    shape_ok = filing.is_valid()
    data = filing.to_data()
    try:
        if shape_ok:
            return save(data)
        # The shape is wrong somewhere: still let the service judge the rest, so the
        # officer sees every mistake at once.
        services.validate_notification_data(data, exporting_authority=exporting_authority, now=now)
    except ValidationError as error:
        filing.add_service_error(error)
    except services.StaleVersion:
        draft.refresh_from_db(fields=["version"])
        filing.mark_stale(draft.version)
    return None


def _after_save(request, notification, action):
    if action == "review":
        messages.info(
            request,
            _("Check the notification below. It has not been sent: send it to %(country)s or go back to edit it.")
            % {"country": notification.importing_country.name},
        )
        return redirect(reverse("notifications:detail", args=[notification.reference]) + "#review")
    messages.success(request, _("The draft %(ref)s is saved. It has not been sent.") % {"ref": notification.reference})
    return redirect(notification)


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    user, now = request.user, timezone.now()
    if not user.can_act:  # officers of a national authority; INCB files nothing
        raise PermissionDenied
    if request.method == "GET":
        return _filing_page(request, FilingForm.blank(today=now.date()))
    filing = FilingForm(request.POST, today=now.date())
    action = request.POST.get("action")
    if action == "add_item":
        return _filing_page(request, filing.with_another_row())
    notification = _save_filing(
        filing,
        lambda data: services.file_notification(actor=user, data=data, draft=True, now=now),
        exporting_authority=user.authority,
        now=now,
    )
    if notification is None:
        return _filing_page(request, filing)
    return _after_save(request, notification, action)


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
    return _detail_page(request, notification)


def _detail_page(request, notification, **forms):
    user, now = request.user, timezone.now()
    allowed = access.allowed_actions(user, notification)
    parties = access.parties_of(user, notification)
    can = {action: True for action in allowed}
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
        "risk_signals": notification.risk_signals.all(),
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
        shares = list(_shared_authorities(notification))
        context["shares"] = shares
        context["share_form"] = forms.get("share_form") or ShareForm(
            exclude=[notification.exporting_authority_id, *(a.pk for a in shares)]
        )
    if can.get(Action.SUBMIT):
        context["send_reply_due"] = _reply_due_if_sent(notification, now)
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


def _shared_authorities(notification):
    """The authorities the exporter shared this notification with (guardian rows)."""
    groups = NotificationGroupObjectPermission.objects.filter(
        content_object=notification, permission__codename=access.VIEW_PERMISSION
    ).values("group_id")
    return Authority.objects.filter(group_id__in=groups).select_related("country").order_by("country__name", "name")


def _reply_due_if_sent(notification, now):
    return notification.reply_due or notification.importing_country.earliest_reply_due(now.date())


@notification_action(Action.EDIT_DRAFT, methods=("GET", "POST"))
def edit(request, notification):
    user, now = request.user, timezone.now()
    if request.method == "GET":
        return _filing_page(request, FilingForm.for_draft(notification, today=now.date()), notification)
    filing = FilingForm(request.POST, today=now.date())
    action = request.POST.get("action")
    if action == "add_item":
        return _filing_page(request, filing.with_another_row(), notification)
    saved = _save_filing(
        filing,
        lambda data: services.update_draft(
            actor=user,
            notification=notification,
            data=data,
            now=now,
            expected_version=filing.main.cleaned_data.get("version"),
        ),
        exporting_authority=notification.exporting_authority,
        now=now,
        draft=notification,
    )
    if saved is None:
        return _filing_page(request, filing, notification)
    return _after_save(request, saved, action)


def _confirm_page(request, notification, template, **context):
    return render(request, template, {"notification": notification, **context})


@notification_action(Action.SUBMIT, methods=("GET", "POST"))
def send(request, notification):
    form = VersionedForm(request.POST or None, initial={"version": notification.version})
    if request.method == "GET" or not form.is_valid():
        return _confirm_page(
            request,
            notification,
            "notifications/confirm_send.html",
            form=form,
            reply_due=_reply_due_if_sent(notification, timezone.now()),
            transits=notification.transits.select_related("country"),
        )
    services.submit(
        actor=request.user, notification=notification, now=timezone.now(), expected_version=form.expected_version()
    )
    messages.success(
        request,
        _("%(ref)s is sent to %(country)s.")
        % {"ref": notification.reference, "country": notification.importing_country.name},
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
    services.acknowledge(
        actor=request.user, notification=notification, now=timezone.now(), expected_version=form.expected_version()
    )
    messages.success(request, _("Receipt is acknowledged. The exporting authority is told."))
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
        services.respond(
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
    messages.success(request, _("Your reply is sent to the exporting authority."))
    return redirect(notification)


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
            services.provide_information(
                actor=request.user,
                notification=notification,
                comment=form.cleaned_data["comment"],
                now=timezone.now(),
                expected_version=form.expected_version(),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Your answer is sent. The importing authority's reply clock runs again."))
            return redirect(notification)
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
            messages.success(request, _("%(ref)s is withdrawn.") % {"ref": notification.reference})
            return redirect(notification)
    return _confirm_page(
        request,
        notification,
        "notifications/confirm_withdraw.html",
        form=form,
        errors=error_anchors(form, "withdraw-form") if form.is_bound else [],
    )


@notification_action(Action.SHARE)
def share(request, notification):
    shared = _shared_authorities(notification).values_list("pk", flat=True)
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
    authority = _shared_authorities(notification).filter(code=code).first()
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
