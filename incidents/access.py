"""Who may see which incident, and who may change it: the incidents' counterpart of
notifications/access.py, the one module that decides. The pages and the API ask it and
never query incidents otherwise.

Rules (docs/domain.md, the contract's "Incidents"): a ``concerned`` incident is seen by the
authorities of the reporting country, of the route's countries, of the countries it is
shared with, of the countries of its related notifications (exporting, importing, transit)
and by INCB; an ``all`` incident by every competent authority. Anyone else gets the same
404 as for a reference that does not exist. Only the reporting authority's officers and
administrators amend it; nobody deletes it. Reporting is for national authorities (INCB
reviews, it does not report)."""

from django.db.models import Q, QuerySet
from django.http import Http404

from notifications.models import TransitCountry

from .models import Incident, RouteStop, Visibility


def _acting_authority(user):
    if user is None or not user.is_authenticated or not user.is_active or user.authority_id is None:
        return None
    return user.authority


def visible_to_countries(codes) -> QuerySet:
    """Every incident the authorities of any of the countries ``codes`` see (national
    authorities: visibility is by country)."""
    codes = [code for code in codes if code]
    # From the (small) table of related notifications, joined to their notifications: never a
    # scan of every notification of the countries.
    related = Incident.related_notifications.through.objects.filter(
        Q(notification__exporting_country_id__in=codes)
        | Q(notification__importing_country_id__in=codes)
        | Q(notification__transits__country_id__in=codes)
    )
    concerned = (
        Q(country_id__in=codes)
        | Q(pk__in=RouteStop.objects.filter(country_id__in=codes).values("incident_id"))
        | Q(pk__in=Incident.shared_with.through.objects.filter(country_id__in=codes).values("incident_id"))
        | Q(pk__in=related.values("incident_id"))
    )
    return Incident.objects.filter(Q(visibility=Visibility.ALL) | concerned)


def visible_to_authority(authority) -> QuerySet:
    """Every incident ``authority`` may see (the rule above, for one authority)."""
    if authority is None:
        return Incident.objects.none()
    if authority.is_incb:
        return Incident.objects.all()
    return visible_to_countries([authority.country_id])


def visible_incidents(user) -> QuerySet:
    """Every incident ``user`` may see."""
    return visible_to_authority(_acting_authority(user))


def get_incident_for(user, reference: str) -> Incident:
    """The incident, if ``user`` may see it; otherwise the same 404 as a missing one."""
    incident = visible_incidents(user).filter(reference=reference).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def may_report(user) -> bool:
    """An officer or administrator of a national authority."""
    authority = _acting_authority(user)
    return authority is not None and not authority.is_incb and bool(getattr(user, "can_act", False))


def may_amend(user, incident: Incident) -> bool:
    """An officer or administrator of the reporting authority."""
    authority = _acting_authority(user)
    return authority is not None and incident.authority_id == authority.pk and bool(getattr(user, "can_act", False))


def concerned_countries(incident: Incident) -> set[str]:
    """The countries a ``concerned`` incident is for (the alerts' addressees too)."""
    countries = {incident.country_id}
    countries |= set(incident.route_stops.values_list("country_id", flat=True))
    countries |= set(incident.shared_with.values_list("code", flat=True))
    related = incident.related_notifications.all()
    for exporting, importing in related.values_list("exporting_country_id", "importing_country_id"):
        countries |= {exporting, importing} - {None}
    countries |= set(
        TransitCountry.objects.filter(notification__in=related.values("pk")).values_list("country_id", flat=True)
    )
    return countries
