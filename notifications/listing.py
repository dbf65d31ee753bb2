"""What the notification list adds to the rows access.visible_notifications gives: the
orders a person may sort them in (a fixed set of keys, never a column name from the query
string) and the "new" marker. The list page and its CSV/XLSX export both take their rows
from here, so an export is exactly the list, in the list's order."""

from django.db.models import BooleanField, Case, Exists, F, IntegerField, OuterRef, Value, When
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import NotificationRead, Status

# Statuses in the order a notification lives them, not alphabetically by their code.
STATUS_ORDER = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(Status.values)),
    output_field=IntegerField(),
)

# Sort key (the query string's ``sort``, "-" before it for descending) -> (the column's
# heading, what it orders by). The primary key follows as the tie-breaker, so that rows with
# the same value keep one order from page to page and in the export.
SORTS = {
    "reference": (_("Reference"), (F("reference"),)),
    "status": (_("Status"), (STATUS_ORDER,)),
    "route": (_("From → to"), (F("exporting_country__name"), F("importing_country__name"))),
    "reply_due": (_("Reply due"), (F("reply_due"),)),
    "sent": (_("Sent"), (F("submitted_at"),)),
}
# Without a sort: the newest first, as the list has always been.
DEFAULT_ORDER = ("-created_at", "-pk")


def sort_choices():
    """The form's choices: the default, then each column both ways."""
    choices = [("", _("Newest first"))]
    for key, (label, _fields) in SORTS.items():
        choices.append((key, format_lazy(_("{column}, ascending"), column=label)))
        choices.append((f"-{key}", format_lazy(_("{column}, descending"), column=label)))
    return choices


def parse_sort(value: str) -> tuple[str | None, bool]:
    """(the column key, descending?) of a sort value already checked against sort_choices;
    (None, True) for the default order."""
    if not value:
        return None, True
    return value.lstrip("-"), value.startswith("-")


def ordered(queryset, sort: str):
    key, descending = parse_sort(sort)
    if key is None:
        return queryset.order_by(*DEFAULT_ORDER)
    # Empty values (a draft has no reply-due or sent date, maybe no importing country) last
    # both ways, and the same on PostgreSQL and SQLite, which put NULLs at opposite ends.
    if descending:
        order = [field.desc(nulls_last=True) for field in SORTS[key][1]] + [F("pk").desc()]
    else:
        order = [field.asc(nulls_last=True) for field in SORTS[key][1]] + [F("pk").asc()]
    return queryset.order_by(*order)


def columns(sort: str) -> dict[str, dict]:
    """Per sortable column, for its heading: the sort its link asks for (the other way round
    when it is the current one, else ascending) and its aria-sort value (None: not sorted)."""
    key, descending = parse_sort(sort)
    headings = {}
    for column, (label, _fields) in SORTS.items():
        current = column == key
        headings[column] = {
            "label": label,
            "sorted": ("descending" if descending else "ascending") if current else None,
            "link": f"-{column}" if current and not descending else column,
        }
    return headings


def with_new_marker(queryset, user):
    """Annotate ``is_new``: nobody of the user's authority has opened the notification yet.
    One EXISTS per row inside the list's own query (the unique index notif_read_once
    answers it), so the number of queries does not grow with the rows. A notification is
    never new to the authority that filed it: it wrote it, drafts included."""
    authority_id = getattr(user, "authority_id", None)
    if authority_id is None:
        return queryset.annotate(is_new=Value(False, output_field=BooleanField()))
    opened = NotificationRead.objects.filter(notification_id=OuterRef("pk"), authority_id=authority_id)
    return queryset.annotate(
        is_new=Case(
            When(exporting_authority_id=authority_id, then=Value(False)),
            default=~Exists(opened),
            output_field=BooleanField(),
        )
    )
