# Placeholder views: the accounts pages are being built (issue 2).
from django.contrib.auth import views as auth_views
from django.http import HttpResponse


class PortalLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


two_factor_setup = two_factor_verify = accept_invitation = user_list = invite = user_edit = _todo
client_list = client_create = client_revoke = _todo
