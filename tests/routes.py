"""Every route of the project as a concrete path, and a cast of callers to request it:
for the checks that must hold on every page (tests/test_csp.py, tests/test_pages_render.py)."""

import re

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# A value for each path converter a pattern may use (the walk needs a concrete path).
SAMPLES = {"str": "GH", "slug": "GH", "int": "1", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def walk(patterns=None, prefix=""):
    """Every route of the project as (regex-free) path templates, e.g. 'notifications/<str:reference>/'."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def concrete(route: str, reference: str) -> str | None:
    if route.startswith("^") or "(?P" in route:
        return None  # a regex route (the admin's few); its siblings cover the admin
    path = re.sub(r"<str:reference>", reference, route)
    path = re.sub(r"<(\w+):\w+>", lambda m: SAMPLES.get(m.group(1), "x"), path)
    path = re.sub(r"<\w+>", "x", path)
    return "/" + path


def every_route(reference: str) -> list[str]:
    routes = sorted({p for p in (concrete(r, reference) for r in walk()) if p is not None})
    assert len(routes) > 40, routes  # the walk found the project, not nothing
    return routes


def callers(cast) -> dict[str, Client]:
    """Anonymous, an exporting officer, INCB staff and an operator (staff, for the admin)."""
    # The server's answer, not the test client's re-raised exception: the walk requests
    # sample ids that may not exist (django-otp's admin answers a missing device's
    # config page with an exception; that 500 is a page like any other here).
    clients = {name: Client(raise_request_exception=False) for name in ("anonymous", "exporter", "incb", "operator")}
    clients["exporter"].force_login(cast.exporter_officer)
    clients["incb"].force_login(cast.incb_reviewer)
    operator = cast.incb_admin
    operator.is_staff = operator.is_superuser = True
    operator.save()
    clients["operator"].force_login(operator)
    return clients


def page_without_csrf(response) -> str:
    """A page's HTML with the CSRF token of its forms taken out (Django masks it afresh on
    every render), for tests that compare two pages byte for byte, e.g. "an invisible
    notification answers exactly as a missing one"."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
