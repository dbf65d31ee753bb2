"""INCB's risk page: the open flags of open notifications, one row per flag, filterable
by flag, country and substance, sortable by a fixed set of keys (never a column name from
the query string, with the primary key as the tie-breaker). The page and its CSV export
take their rows from here, so the file is exactly the page."""

from django.db.models import F, Prefetch, Q
from django.utils.translation import gettext_lazy as _

from notifications import risk
from notifications.models import OPEN_STATUSES, Item, RiskSignal

SORTS = {
    "raised": (_("Raised"), (F("raised_at"),)),
    "reference": (_("Notification"), (F("notification__reference"),)),
    "flag": (_("Flag"), (F("kind"),)),
    "route": (_("From → to"), (F("notification__exporting_country__name"), F("notification__importing_country__name"))),
    "due": (_("Reply due"), (F("notification__reply_due"),)),
}
DEFAULT_SORT = "-raised"


def open_flags(*, kind=None, country=None, substance=None):
    signals = RiskSignal.objects.filter(resolved_at__isnull=True, notification__status__in=OPEN_STATUSES)
    if kind:
        signals = signals.filter(kind=kind)
    if country is not None:
        signals = signals.filter(
            Q(notification__exporting_country=country) | Q(notification__importing_country=country)
        )
    if substance is not None:
        signals = signals.filter(notification__in=Item.objects.filter(substance=substance).values("notification_id"))
    return signals.select_related(
        "notification__exporting_country", "notification__importing_country", "notification__exporting_authority"
    ).prefetch_related(Prefetch("notification__items", queryset=Item.objects.select_related("substance")))


def ordered(signals, sort: str):
    key = sort.lstrip("-") if sort else DEFAULT_SORT.lstrip("-")
    if key not in SORTS:
        key, sort = DEFAULT_SORT.lstrip("-"), DEFAULT_SORT
    descending = (sort or DEFAULT_SORT).startswith("-")
    fields = SORTS[key][1]
    order = [f.desc(nulls_last=True) if descending else f.asc(nulls_last=True) for f in fields]
    return signals.order_by(*order, F("pk").desc() if descending else F("pk").asc())


def columns(sort: str) -> dict[str, dict]:
    sort = sort or DEFAULT_SORT
    key, descending = sort.lstrip("-"), sort.startswith("-")
    return {
        column: {
            "label": label,
            "sorted": ("descending" if descending else "ascending") if column == key else None,
            "link": f"-{column}" if column == key and not descending else column,
        }
        for column, (label, _fields) in SORTS.items()
    }


def csv_rows(signals):
    yield [
        "notification",
        "flag",
        "raised_at",
        "exporting_country",
        "importing_country",
        "substances",
        "reply_due",
        "detail",
    ]
    for signal in signals:
        n = signal.notification
        yield [
            n.reference,
            signal.kind,
            signal.raised_at.isoformat(),
            n.exporting_country_id,
            n.importing_country_id or "",
            "; ".join(item.name for item in n.items.all()),
            n.reply_due.isoformat() if n.reply_due else "",
            risk.detail_of(signal),
        ]
