import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@login_required
def home(request):
    return redirect("notifications:dashboard")


@never_cache
def healthz(request):
    """Liveness and database reachability, for the container health check (bin/healthcheck).
    Open to anyone and says nothing about the data: 200 ``ok``, or 503 when the database
    cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: the database is unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
