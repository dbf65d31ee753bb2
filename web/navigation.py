"""Which item of the header's navigation the current page belongs to, so that the header
can mark it with aria-current="page" (a screen reader says "current page", and sighted
users see where they are). Decided by the route's name, never by the URL's text, so a
page keeps its section when its path changes."""

# A route (namespace:name) that belongs to another section than its namespace's.
ROUTE_SECTIONS = {
    "notifications:dashboard": "dashboard",
    "authorities:policies": "policies",
    "authorities:policy_edit": "policies",
    "authorities:surveillance": "surveillance",
    "authorities:surveillance_add": "surveillance",
    "authorities:surveillance_edit": "surveillance",
    "authorities:surveillance_retire": "surveillance",
    "authorities:surveillance_reinstate": "surveillance",
    "authorities:surveillance_history": "surveillance",
    "monitoring:risk": "risk",
    "monitoring:risk_csv": "risk",
}
NAMESPACE_SECTIONS = {
    "notifications": "notifications",
    "authorities": "directory",
    "timeliness": "timeliness",
    "incidents": "incidents",
    "monitoring": "estimates",
    "webhooks": "webhooks",
    "followup": "followup",
    "accounts": "account",
}


def section_of(view_name: str) -> str:
    if view_name in ROUTE_SECTIONS:
        return ROUTE_SECTIONS[view_name]
    namespace, _sep, name = view_name.rpartition(":")
    if namespace == "accounts":
        # An administrator's pages about the authority's people and machines.
        if name.startswith("user") or "invit" in name:
            return "users"
        if name.startswith("client"):
            return "clients"
    return NAMESPACE_SECTIONS.get(namespace, "")


def section(request):
    """Context processor: ``nav_section``, the header item of the current page ("" for none)."""
    match = getattr(request, "resolver_match", None)
    return {"nav_section": section_of(match.view_name) if match is not None else ""}
