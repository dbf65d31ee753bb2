"""Rate limits of the REST API, per caller.

A licensing system is one machine user, so "per client" is DRF's user throttle keyed by
that user; anonymous callers (only the schema and errors) are keyed by address. The rates
are read from settings on every request (DRF's own classes read them once, at import),
so an installation tunes them by environment and tests can change them."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ClientRateThrottle(UserRateThrottle):
    scope = "client"

    def get_rate(self):
        return settings.API_RATE_PER_CLIENT


class AnonymousRateThrottle(AnonRateThrottle):
    scope = "anonymous"

    def get_rate(self):
        return settings.API_RATE_ANONYMOUS
