"""Backtracking: the notifications that name a party of an incident (tolerantly:
incidents.matching) or share its route and substance, and the incidents that name a
party of a notification (the ``incident_party`` flag and the notification page's panel).

Notifications' party names are searched in NotificationPartyName (this app's table,
filled when a notification is sent or amended): on PostgreSQL through its GIN trigram
index (``normalised_name % query``: candidates of trigram similarity 0.5 and up,
CANDIDATE_SIMILARITY; rapidfuzz then decides), elsewhere by rapidfuzz over the rows in
Python."""

from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField, Func, Q, QuerySet, Value

from notifications.models import Item, Notification, TransitCountry

from .matching import THRESHOLD, normalise, on_postgresql, score
from .models import Incident, IncidentParty, NotificationPartyName, PartyRole

ROLES_OF_NOTIFICATION = {
    PartyRole.EXPORTER: "exporter_name",
    PartyRole.IMPORTER: "importer_name",
    PartyRole.CONSIGNEE: "consignee_name",
    PartyRole.BROKER: "broker_name",
}


class TrigramSimilar(Func):
    """``a % b`` (pg_trgm): true when the trigram similarity is at least
    pg_trgm.similarity_threshold (CANDIDATE_SIMILARITY, set by _candidates); the operator
    the GIN trigram index answers."""

    arg_joiner = " %% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


# The trigram similarity from which a row is a candidate (pg_trgm's default is 0.3). A name
# one letter off (rapidfuzz 0.9, a match) is 0.74 ("accra pharma"/"acra pharma"); another
# company sharing a word is 0.35-0.4 ("kumasi pharma", "accra holdings pharmaceuticals"):
# 0.5 keeps every match and leaves out most of the rows that rapidfuzz would refuse anyway.
CANDIDATE_SIMILARITY = 0.5


@contextmanager
def _candidates():
    """On PostgreSQL, ``%`` at CANDIDATE_SIMILARITY for the statements run inside (SET
    LOCAL: until the end of the transaction, opened here if there is none)."""
    if not on_postgresql():
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [CANDIDATE_SIMILARITY])
        yield


def _similar_to_any(column: str, names: list[str]) -> Q:
    condition = Q()
    for name in names:
        condition |= Q(TrigramSimilar(column, Value(name)))
    return condition


def index_party_names(notification: Notification) -> list[NotificationPartyName]:
    """(Re)write the normalised party names of ``notification``: one row per named party."""
    NotificationPartyName.objects.filter(notification=notification).delete()
    rows = [
        NotificationPartyName(notification=notification, role=role, name=name, normalised_name=normalise(name))
        for role, column in ROLES_OF_NOTIFICATION.items()
        if (name := getattr(notification, column).strip())
    ]
    return NotificationPartyName.objects.bulk_create([row for row in rows if row.normalised_name])


def party_names_matching(names: list[str], rows: QuerySet) -> list[tuple[float, str, NotificationPartyName]]:
    """(score, the normalised name it matched, row) for the NotificationPartyName ``rows``
    that name one of ``names`` (normalised), best first."""
    names = [name for name in dict.fromkeys(names) if name]
    if not names:
        return []
    if on_postgresql():
        rows = rows.filter(_similar_to_any("normalised_name", names))
    with _candidates():
        candidates = list(rows.only("notification_id", "role", "name", "normalised_name"))
    found = []
    for row in candidates:
        best = max(names, key=lambda name: score(name, row.normalised_name))
        if (s := score(best, row.normalised_name)) >= THRESHOLD:
            found.append((s, best, row))
    return sorted(found, key=lambda item: -item[0])


def incident_parties_matching(names: list[str], incidents: QuerySet) -> list[tuple[float, IncidentParty]]:
    """The parties of ``incidents`` whose names match one of ``names`` (normalised)."""
    names = [name for name in dict.fromkeys(names) if name]
    if not names:
        return []
    rows = IncidentParty.objects.filter(incident__in=incidents.values("pk"))
    if on_postgresql():
        rows = rows.filter(_similar_to_any("normalised_name", names))
    # Scored on two columns; only the parties that match are loaded whole (at filing, most
    # candidates are refused: this keeps the check cheap).
    with _candidates():
        candidates = list(rows.values_list("pk", "normalised_name"))
    scores = {}
    for pk, normalised in candidates:
        s = max(score(name, normalised) for name in names)
        if s >= THRESHOLD:
            scores[pk] = s
    if not scores:
        return []
    parties = IncidentParty.objects.filter(pk__in=list(scores)).select_related("incident")
    return sorted(((scores[p.pk], p) for p in parties), key=lambda item: (-item[0], item[1].incident_id))


def _route_of(notification_ids) -> dict[int, list[str]]:
    routes: dict[int, list[str]] = {}
    for pk, exporting, importing in Notification.objects.filter(pk__in=notification_ids).values_list(
        "pk", "exporting_country_id", "importing_country_id"
    ):
        routes[pk] = [exporting, importing]
    for pk, country in TransitCountry.objects.filter(notification_id__in=notification_ids).values_list(
        "notification_id", "country_id"
    ):
        routes[pk].insert(-1, country)
    return routes


def matches(incident: Incident, visible: QuerySet) -> list[dict]:
    """The notifications of ``visible`` (the caller's visible notifications) behind
    ``incident``, best first: one row per notification, its best reason."""
    best: dict[int, dict] = {}

    parties = list(incident.parties.all())
    for party in parties:
        rows = NotificationPartyName.objects.filter(notification__in=visible.order_by().values("pk"))
        for s, _name, row in party_names_matching([party.normalised_name], rows):
            current = best.get(row.notification_id)
            if current is None or s > current["score"]:
                best[row.notification_id] = {
                    "notification_id": row.notification_id,
                    "reason": "party",
                    "party_role": row.role,
                    "matched_name": row.name,
                    "incident_party": party.name,
                    "score": s,
                }

    route = list(incident.route_stops.values_list("country_id", flat=True))
    substances = [s for s in incident.substances.values_list("substance_id", flat=True) if s]
    if len(set(route)) >= 2 and substances:
        # Same substance, both ends of the shipment on the incident's route.
        candidates = (
            visible.filter(exporting_country_id__in=route, importing_country_id__in=route)
            .filter(pk__in=Item.objects.filter(substance_id__in=substances).values("notification_id"))
            .exclude(pk__in=list(best))
            .order_by("-created_at")
            .values_list("pk", flat=True)[:500]
        )
        ids = list(candidates)
        incident_route = set(route)
        for pk, countries in _route_of(ids).items():
            shared = incident_route & set(countries)
            best[pk] = {
                "notification_id": pk,
                "reason": "route_and_substance",
                "party_role": None,
                "matched_name": None,
                "incident_party": None,
                # Below every party match: the share of the two routes' countries in common.
                "score": round(0.8 * len(shared) / len(incident_route | set(countries)), 3),
            }

    references = dict(Notification.objects.filter(pk__in=list(best)).values_list("pk", "reference"))
    rows = [{**row, "notification": references[pk]} for pk, row in best.items()]
    return sorted(rows, key=lambda row: (-row["score"], row["notification"]))


def incidents_naming(notification: Notification, incidents: QuerySet) -> list[tuple[float, IncidentParty, str]]:
    """The parties of ``incidents`` that ``notification`` names: (score, incident party,
    the notification's role that named it), best first."""
    by_name: dict[str, str] = {}
    for role, column in ROLES_OF_NOTIFICATION.items():
        name = normalise(getattr(notification, column))
        if name:
            by_name.setdefault(name, role)
    found = []
    for s, party in incident_parties_matching(list(by_name), incidents):
        role = max(by_name, key=lambda name: score(name, party.normalised_name))
        found.append((s, party, by_name[role]))
    return found
