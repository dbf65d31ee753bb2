"""The portal's own pages about itself: help for each role, the accessibility statement
and the privacy notice (issue 18, defect 8).

They live here, in the composition layer, because the help pages explain the statuses,
risk flags and chase steps of ``notifications`` and the roles of ``accounts``: they are
rendered from those TextChoices and the chase ladder, so a new status without an
explanation fails the page (and tests/test_help_pages.py) instead of going unexplained."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from authorities.models import Authority, AuthorityKind, ReplyRegime
from notifications.clock import ladder
from notifications.models import RiskKind, Status

# What each status means, for every reader. Keyed by the TextChoices member: a status added
# to notifications.models.Status without a line here makes every help page fail.
STATUS_MEANINGS = {
    Status.DRAFT: _(
        "Being prepared by the exporting authority. Only that authority sees it; it may be incomplete, "
        "can be edited or deleted, and nothing has been sent to anyone."
    ),
    Status.AWAITING_REPLY: _(
        "Sent to the importing country's authority, which owes a reply by the reply-due date. "
        "The reply clock runs and the portal chases a late reply."
    ),
    Status.INFORMATION_REQUESTED: _(
        "The importing authority asked the exporting authority a question. The reply clock is stopped and it "
        "now waits on the exporter's answer; when it comes, the due date moves by the days the question was "
        "open and the notification is awaiting a reply again."
    ),
    Status.NO_OBJECTION: _(
        "Final reply: the importing authority does not object to the shipment. It cannot be changed or withdrawn."
    ),
    Status.OBJECTION: _(
        "Final reply: the importing authority objects to the shipment, with its reasons. "
        "It cannot be changed or withdrawn."
    ),
    Status.WITHDRAWN: _(
        "The exporting authority withdrew it before a final reply (for example, the order was cancelled), "
        "with a reason. Nothing more can be done on it."
    ),
}

# What each risk flag means. Same rule: a new RiskKind needs its line.
RISK_MEANINGS = {
    RiskKind.SILENCE: _(
        "Raised when no reply has come by the end of the reply-due day (UTC). It stays on the notification's "
        "record, and is marked resolved when the importing authority answers; the notification still counts "
        "as answered late in the timeliness figures. A flag never blocks a shipment: it is shown where "
        "people decide."
    ),
    RiskKind.ALR_EXCEEDED: _(
        "The notification takes the year's notified total for the importing country above its annual legitimate "
        "requirement (estimate) for the substance, or the country has no estimate for a substance that needs one. "
        "The detail gives the numbers."
    ),
    RiskKind.UNUSUAL_QUANTITY: _(
        "The quantity is far above what this country has received of this substance in recent years; the detail "
        "says by which measure."
    ),
    RiskKind.NEW_IMPORTER: _("The first notification to this importer for this country in three years."),
    RiskKind.PRIOR_OBJECTION: _(
        "The importer or consignee was objected to before; the detail names the notification and the date."
    ),
    RiskKind.INCIDENT_PARTY: _(
        "A party of the notification is named in an incident (a seizure, a stopped shipment, a diversion attempt) "
        "that its parties can see; the detail gives the incident's reference."
    ),
    RiskKind.QUANTITY_DISCREPANCY: _(
        "What the importing authority confirmed as received differs by more than 1 % from what was dispatched. "
        "It stays open until the importing or exporting authority explains the difference."
    ),
    RiskKind.ARRIVAL_UNCONFIRMED: _(
        "No arrival was confirmed 30 days after the dispatch; the importing authority is reminded once. Resolved "
        "when the arrival is confirmed."
    ),
}
# The flags the portal raises: every kind of the contract, since the estimates and the
# trade's history raise theirs (monitoring).
RAISED_FLAGS = tuple(RiskKind)

# The chase ladder's steps (notifications.clock), by name.
CHASE_STEP_MEANINGS = {
    "reminder": _("The importing authority is reminded by e-mail that a reply is due."),
    "overdue": _(
        "The reply is late. The importing authority is told; the exporting authority is told what the importing "
        "country's reply regime means for the shipment; the silence flag is raised; and the notification appears "
        "in INCB's follow-up queue until the country replies."
    ),
    "escalation": _("A second reminder goes to the importing authority, saying that INCB has been told."),
    "persistent_silence": _("The silence is recorded on the timeline as persistent; INCB's follow-up continues."),
}

REGIME_MEANINGS = {
    ReplyRegime.EXPLICIT_CONSENT: _("Silence never clears a shipment: the exporter waits for a reply."),
    ReplyRegime.TACIT_CONSENT: _(
        "Silence after the reply period counts as consent, but it is still recorded and counted as silence."
    ),
}

HELP_ROLES = {
    "exporting": _("Exporting officers"),
    "importing": _("Importing officers"),
    "transit": _("Transit countries' officers"),
    "incb": _("INCB staff"),
    "administrator": _("Authority administrators"),
}


def roles_of(user) -> list[str]:
    """The help pages that speak to this person, most relevant first. A national
    authority's officer exports, imports and sees transits alike: which one depends on
    the notification, not on the person."""
    if not user.is_authenticated or user.authority_id is None:
        return []
    roles = ["incb"] if user.is_incb else ["exporting", "importing", "transit"]
    if user.role == Role.ADMINISTRATOR:
        roles.insert(0, "administrator")
    return roles


def _offset(delta: timedelta) -> dict:
    days = delta.days
    return {"days": abs(days), "before": days < 0, "on": days == 0}


def _contacts(user) -> dict:
    """Whom to ask: the administrators of the person's own authority, and the INCB
    secretariat (for the portal itself, and for a country that does not answer)."""
    admins = (
        User.objects.filter(authority_id=user.authority_id, role=Role.ADMINISTRATOR, is_active=True, is_machine=False)
        .exclude(pk=user.pk)
        .order_by("last_name", "first_name", "username")
        if user.authority_id
        else User.objects.none()
    )
    return {"admins": list(admins), "incb": Authority.objects.filter(kind=AuthorityKind.INCB).first()}


@login_required
def help_index(request):
    mine = roles_of(request.user)
    pages = [(key, label, key in mine) for key, label in HELP_ROLES.items()]
    return render(request, "pages/help_index.html", {"pages": pages, "mine": mine, **_contacts(request.user)})


@login_required
def help_page(request, role):
    if role not in HELP_ROLES:
        raise Http404
    context = {
        "role": role,
        "role_label": HELP_ROLES[role],
        "statuses": [(status, STATUS_MEANINGS[status]) for status in Status],
        "risk_flags": [(kind, RISK_MEANINGS[kind]) for kind in RAISED_FLAGS],
        "chase_steps": [(number, CHASE_STEP_MEANINGS[name], _offset(offset)) for number, name, offset in ladder()],
        "regimes": [(regime, REGIME_MEANINGS[regime]) for regime in ReplyRegime],
        "other_pages": [(key, label) for key, label in HELP_ROLES.items() if key != role],
        "invitation_days": settings.INVITATION_VALID_FOR.days,
        **_contacts(request.user),
    }
    return render(request, f"pages/help_{role}.html", context)


def accessibility(request):
    return render(request, "pages/accessibility.html", {"incb": _secretariat()})


def privacy(request):
    return render(request, "pages/privacy.html", {"incb": _secretariat()})


def _secretariat():
    return Authority.objects.filter(kind=AuthorityKind.INCB).first()


app_name = "pages"
urlpatterns = [
    path("help/", help_index, name="help"),
    # One route per role, so that the route walks (tests/routes.py) render each page.
    *[path(f"help/{role}/", help_page, {"role": role}, name=f"help_{role}") for role in HELP_ROLES],
    path("accessibility/", accessibility, name="accessibility"),
    path("privacy/", privacy, name="privacy"),
]
