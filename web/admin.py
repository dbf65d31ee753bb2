"""What the portal's Django admin pages share."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the installation's operators read but never write: they are made by
    the portal's own paths (services, the API), never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
