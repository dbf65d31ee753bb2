"""The portal's error pages: 400, 403 (and a refused CSRF check), 404, 405 and 500, each a
page of the portal that says what happened and what to do, instead of Django's bare text.

The REST API and the token endpoint keep answering in JSON (docs/api.md): a licensing
system parses ``{"detail": ...}``, never an HTML page. Django calls these views for errors
raised outside DRF's own handler (an unknown /api/ path, a crash), so each looks at the
path first."""

from django.http import HttpResponseNotAllowed, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from api.errors import NOT_FOUND_BODY

MACHINE_PREFIXES = ("/api/", "/oauth/")


def is_machine_path(request) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


@requires_csrf_token
def bad_request(request, exception=None):
    if is_machine_path(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return render(request, "errors/400.html", status=400)


@requires_csrf_token
def permission_denied(request, exception=None):
    if is_machine_path(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return render(request, "errors/403.html", status=403)


@requires_csrf_token
def not_found(request, exception=None):
    if is_machine_path(request):
        # The API's one body for "missing" (api.errors): an unknown path looks like a missing object.
        return JsonResponse(NOT_FOUND_BODY, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    """Rendered without the request, so no context processor runs: the page needs neither
    the database (which may be what failed) nor the signed-in user."""
    if is_machine_path(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return HttpResponseServerError(loader.get_template("errors/500.html").render({}))


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a form sent without a valid security token, almost always
    because the page stayed open longer than the session lasts, or the person logged out
    and in again in another tab since. Django's own page says only "403 Forbidden"."""
    if is_machine_path(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return render(request, "errors/csrf_failure.html", status=403)


class MethodNotAllowedPageMiddleware:
    """An action's address (a form's POST target, such as "log out" or "send again") opened
    directly gets Django's empty 405. This turns it into a page that says why, keeping the
    status and the ``Allow`` header; the API's and the token endpoint's answers are left
    as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and not is_machine_path(request)
            and request.method != "HEAD"
            and request.accepts("text/html")
        ):
            page = render(request, "errors/405.html", status=405)
            page["Allow"] = response["Allow"]
            return page
        return response
