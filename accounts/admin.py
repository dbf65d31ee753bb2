"""The Django admin, for the installation's operators (INCB). Authority administrators
use the portal's own pages; invitations and machine clients are made only through the
services (or ``manage.py create_api_client``), so here they are read and revoked."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiClient, Invitation, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "authority", "role", "is_active", "is_machine")
    list_filter = ("authority", "role", "is_active", "is_machine", "is_superuser")
    list_select_related = ("authority",)
    search_fields = ("username", "first_name", "last_name", "email", "authority__code", "authority__name")
    readonly_fields = ("is_machine", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Authority"), {"fields": ("authority", "role", "is_machine")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "authority", "role", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "authority",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
        "revoked_by",
        "replaces",
    )
    list_filter = ("authority", "role")
    list_select_related = ("authority", "invited_by", "revoked_by", "replaces__authority")
    search_fields = ("email", "authority__code")
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request):
        # An invitation is useful only with its e-mail: administrators send them from the portal.
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "authority", "client_id", "scopes", "created_at", "revoked_at")
    list_filter = ("authority",)
    list_select_related = ("authority", "application")
    search_fields = ("name", "authority__code", "application__client_id")
    readonly_fields = (
        "name",
        "authority",
        "application",
        "service_user",
        "scopes",
        "created_by",
        "created_at",
        "revoked_at",
    )
    actions = ["revoke"]

    @admin.display(description=_("client ID"))
    def client_id(self, obj):
        return obj.application.client_id

    def has_add_permission(self, request):
        # The secret must be shown once to whoever creates the client: use the portal's
        # page or ``manage.py create_api_client``.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected clients"))
    def revoke(self, request, queryset):
        now = timezone.now()
        count = 0
        for client in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_client(client=client, now=now)
            count += 1
        self.message_user(request, _("%(count)d client(s) revoked.") % {"count": count}, messages.SUCCESS)
