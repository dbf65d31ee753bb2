"""The notification page's incidents panel: ``{% load incidents_panel %}{% incidents_naming
notification user %}`` lists the incidents visible to ``user`` that name a party of the
notification, so that notifications (a layer below) never imports incidents."""

from django import template

from .. import access, backtracking

register = template.Library()


@register.inclusion_tag("incidents/_naming_panel.html")
def incidents_naming(notification, user):
    found = backtracking.incidents_naming(notification, access.visible_incidents(user))
    rows, seen = [], set()
    for score, party, role in found:
        if party.incident_id in seen:
            continue
        seen.add(party.incident_id)
        rows.append({"incident": party.incident, "party": party, "role": role, "score": score})
    return {"rows": rows}
