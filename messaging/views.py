"""Web pages for an authority administrator: register, disable, enable and delete the
authority's webhook endpoints, and read their delivery log. Thin adapters over
messaging.webhooks (the same functions as the REST API)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import webhooks
from .models import WebhookEvent

SECRET_SESSION_KEY = "webhook-secret-%d"


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address (URL)"),
        max_length=500,
        help_text=gettext_lazy("An HTTPS address of your licensing system, such as https://licensing.example/pen."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEvent.choices,
        initial=WebhookEvent.values,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The events on your authority's notifications that are sent to this address."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For your colleagues: which system this is, who runs it."),
    )


def _require_admin(request):
    # People only (machine users never log in): administrators of a national authority.
    if request.user.is_machine or not webhooks.may_manage(request.user):
        raise PermissionDenied(_("Only your authority's administrators manage webhooks."))


@login_required
def endpoint_list(request):
    _require_admin(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhooks.register_endpoint(
                actor=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                now=timezone.now(),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                form.add_error(None, error.messages)
        else:
            # Shown once, on the next page (kept server-side in the session until then).
            request.session[SECRET_SESSION_KEY % endpoint.pk] = secret
            return redirect("webhooks:detail", endpoint.pk)
    endpoints = webhooks.endpoints_for(request.user)
    return render(request, "messaging/list.html", {"form": form, "endpoints": endpoints})


@login_required
def endpoint_detail(request, pk):
    _require_admin(request)
    endpoint = webhooks.get_endpoint_for(request.user, pk)
    secret = request.session.pop(SECRET_SESSION_KEY % endpoint.pk, None)
    deliveries = endpoint.deliveries.select_related("message__notification").order_by("-created_at", "-pk")[:100]
    return render(
        request,
        "messaging/detail.html",
        {
            "endpoint": endpoint,
            "secret": secret,
            "deliveries": deliveries,
            "event_labels": dict(WebhookEvent.choices),
        },
    )


@login_required
@require_POST
def endpoint_disable(request, pk):
    _require_admin(request)
    endpoint = webhooks.get_endpoint_for(request.user, pk)
    webhooks.disable_endpoint(actor=request.user, endpoint=endpoint, now=timezone.now())
    return redirect("webhooks:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_enable(request, pk):
    _require_admin(request)
    endpoint = webhooks.get_endpoint_for(request.user, pk)
    webhooks.enable_endpoint(actor=request.user, endpoint=endpoint, now=timezone.now())
    return redirect("webhooks:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request, pk):
    _require_admin(request)
    endpoint = webhooks.get_endpoint_for(request.user, pk)
    webhooks.delete_endpoint(actor=request.user, endpoint=endpoint)
    return redirect("webhooks:list")
