"""The Django admin for the installation's operators: read the webhook endpoints and
deliveries (a support desk's question: "was it sent?"). Endpoints are registered by
authorities through their pages or the API, never here, and their secrets are never
displayed."""

from django.contrib import admin

from web.admin import ReadOnlyAdmin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "authority", "active", "consecutive_failures", "disabled_at", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "authority__code", "authority__name")
    list_select_related = ("authority",)
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event", "endpoint", "message", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", "event")
    search_fields = ("endpoint__url", "message__notification__reference")
    list_select_related = ("endpoint", "message__notification")
    raw_id_fields = ("endpoint", "message")
