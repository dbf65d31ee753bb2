"""The Django admin for the installation's operators: read the API's idempotency records
(a support desk's question: "was my retried request done once?")."""

from django.contrib import admin

from web.admin import ReadOnlyAdmin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "status", "response_status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("key", "path", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
