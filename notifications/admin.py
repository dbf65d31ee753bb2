"""The Django admin for the installation's operators: read the API's idempotency records
and the webhook endpoints and deliveries (a support desk's questions: "was it sent?").
Endpoints are registered by authorities through their pages or the API, never here, and
their secrets are never displayed."""

from django.contrib import admin

from .models import IdempotencyRecord, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "status", "response_status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("key", "path", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


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
