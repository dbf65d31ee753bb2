"""Risk flags raised when a notification is sent or amended, by the apps that know what
makes a notification unusual (incidents: a party named in an incident; monitoring:
estimates and the trade's history). They sit above this app and cannot be called from
its services, so they register here, in their AppConfig.ready, and the services call
``evaluate`` at the moments people decide on (sending, amending); the filing page calls
``preview`` to show what sending would raise, writing nothing.

Two kinds of registration:

- an *assessor* for one flag kind: ``assessor(notification, *, now) -> Finding | None``,
  pure (it reads, never writes). ``evaluate`` records its answer: a Finding raises or
  updates the kind's one RiskSignal, None resolves an open one. ``preview`` returns the
  findings without writing, so the exporter sees them before sending.
- an *evaluator* ``evaluator(notification, *, now) -> None`` for work that must happen
  first (incidents index the notification's party names that the assessors search).

A Finding carries ``data`` (the numbers, language-free) beside its ``detail``; a kind that
registers ``describe(data)`` has its detail re-rendered in the reader's language
(``detail_of``), so the stored text is only the English record.

The chase sweep raises ``silence`` and the shipment's services raise
``quantity_discrepancy`` and ``arrival_unconfirmed`` themselves: time or a confirmation
raises them, not the notification's content."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_lazy as _

# What the importing officer should check when a flag is open: shown beside it at the top
# of the notification, where the reply is decided. A new kind needs its line (a test).
WHAT_TO_CHECK = {
    "silence": _("Reply now: the exporting authority is waiting, and INCB follows up on late replies."),
    "alr_exceeded": _(
        "Check the quantity against your country's annual legitimate requirement: ask the importer what it is for, "
        "or update the estimate with INCB if the need has grown."
    ),
    "unusual_quantity": _(
        "Check why this importer needs so much more than usual: ask for the end use and the customer, or request "
        "information before replying."
    ),
    "new_importer": _(
        "Check that the importer is licensed and real: its licence, its address and its activity, before replying."
    ),
    "prior_objection": _(
        "Check why the earlier notification was objected to, and whether that reason still holds for this one."
    ),
    "incident_party": _(
        "Read the incident: a party of this notification is named in it. Consider requesting information or objecting."
    ),
    "quantity_discrepancy": _("Explain the difference between what was dispatched and what was received."),
    "arrival_unconfirmed": _("Confirm the arrival of the shipment, or say why it has not arrived."),
}


def what_to_check(kind: str) -> str:
    return WHAT_TO_CHECK.get(kind, "")


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    data: dict = field(default_factory=dict)


Evaluator = Callable[..., None]
Assessor = Callable[..., Finding | None]
Describer = Callable[[dict], str]

_EVALUATORS: list[tuple[str, Evaluator]] = []
_ASSESSORS: dict[str, Assessor] = {}
_DESCRIBERS: dict[str, Describer] = {}


def register(name: str, evaluator: Evaluator) -> None:
    """Add ``evaluator`` under ``name`` (registering the same name again replaces it, so
    that a reloaded app does not evaluate twice)."""
    global _EVALUATORS
    _EVALUATORS = [(n, e) for n, e in _EVALUATORS if n != name] + [(name, evaluator)]


def register_assessor(kind: str, assessor: Assessor, describe: Describer | None = None) -> None:
    """The one assessor of flag ``kind`` (again: replaced), and how to word its data."""
    _ASSESSORS[kind] = assessor
    if describe is not None:
        _DESCRIBERS[kind] = describe


def registered() -> list[str]:
    return [name for name, _evaluator in _EVALUATORS] + list(_ASSESSORS)


def assess(notification, *, now) -> dict[str, Finding | None]:
    """Every assessor's answer for ``notification``, by kind; writes nothing."""
    return {kind: assessor(notification, now=now) for kind, assessor in _ASSESSORS.items()}


def preview(notification, *, now) -> list[Finding]:
    """The flags sending ``notification`` now would raise (for the filing page)."""
    return [finding for finding in assess(notification, now=now).values() if finding is not None]


def record(notification, kind: str, finding: Finding | None, *, now) -> bool:
    """Raise, update or resolve the one flag of ``kind`` from ``finding``; True if raised.
    One row per notification and kind (the risk_signal_once constraint): re-evaluating
    updates it, never duplicates it."""
    from .models import RiskSignal

    if finding is None:
        RiskSignal.objects.filter(notification=notification, kind=kind, resolved_at__isnull=True).update(
            resolved_at=now
        )
        return False
    current = RiskSignal.objects.filter(notification=notification, kind=kind).first()
    if current is not None and current.resolved_at is None:
        if current.detail != finding.detail or current.data != finding.data:
            current.detail, current.data = finding.detail, finding.data
            current.save(update_fields=["detail", "data"])
        return True
    RiskSignal.objects.update_or_create(
        notification=notification,
        kind=kind,
        defaults={"raised_at": now, "resolved_at": None, "detail": finding.detail, "data": finding.data},
    )
    return True


def reassess(notification, kind: str, *, now) -> bool:
    """Re-run one kind's assessor and record it (an estimate changed, an incident came)."""
    assessor = _ASSESSORS.get(kind)
    if assessor is None:
        return False
    with translation.override("en"):
        finding = assessor(notification, now=now)
    return record(notification, kind, finding, now=now)


def evaluate(notification, *, now) -> None:
    """Run every evaluator, then record every assessor's finding (sent or amended). The
    stored detail is the English record; readers get ``detail_of`` in their language."""
    for _name, evaluator in _EVALUATORS:
        evaluator(notification, now=now)
    with translation.override("en"):
        findings = assess(notification, now=now)
    for kind, finding in findings.items():
        record(notification, kind, finding, now=now)


def detail_of(signal) -> str:
    """The flag's detail in the active language where its kind can word its data, else
    the stored text."""
    describe = _DESCRIBERS.get(signal.kind)
    if describe is not None and signal.data:
        return describe(signal.data)
    return signal.detail


def describe_finding(finding: Finding) -> str:
    describe = _DESCRIBERS.get(finding.kind)
    return describe(finding.data) if describe is not None and finding.data else finding.detail
