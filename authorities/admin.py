"""The Django admin for operators of the installation. Declared policies, new authorities
and focal points change through the services, as from the pages and the commands; the
admin itself writes only an authority's contact details."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from web.admin import ReadOnlyAdmin

from . import services
from .models import Authority, AuthorityKind, Closure, Country, Substance, SubstanceChange


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    """Countries come from ISO 3166-1 (load_reference_data); only the declared policy is edited."""

    list_display = [
        "name",
        "code",
        "reply_regime",
        "reply_period_days",
        "reply_period_kind",
        "article_12_10a_tables",
        "policy_updated_at",
    ]
    list_filter = ["reply_regime", "reply_period_kind", "article_12_10a_tables"]
    search_fields = ["name", "code", "alpha3"]
    readonly_fields = ["code", "alpha3", "numeric", "name", "policy_updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "code", "alpha3", "numeric"]}),
        (
            _("Declared policy"),
            {"fields": [*services.POLICY_FIELDS, "policy_updated_at"]},
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form has already put the values on ``obj``; the service re-reads and locks the row.
        services.update_country_policy(
            country=obj, **{field: form.cleaned_data[field] for field in services.POLICY_FIELDS}
        )


@admin.register(Substance)
class SubstanceAdmin(admin.ModelAdmin):
    """Read only: the catalogue is the CSV shipped with the code, and load_reference_data
    would overwrite any edit made here; INCB maintains the special surveillance list on its
    page (authorities.surveillance)."""

    list_display = ["name", "code", "schedule", "cas_number", "hs_code", "alr_applicable", "active"]
    list_filter = ["schedule", "alr_applicable", "active"]
    search_fields = ["name", "code", "cas_number", "hs_code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuthorityAddForm(forms.ModelForm):
    class Meta:
        model = Authority
        fields = ["code", "name", "kind", "country", "email", "phone", "address"]

    def clean(self):
        cleaned = super().clean()
        kind, country = cleaned.get("kind"), cleaned.get("country")
        if kind == AuthorityKind.NATIONAL and country is None:
            self.add_error("country", _("A competent national authority belongs to a country."))
        if kind == AuthorityKind.INCB and country is not None:
            self.add_error("country", _("The INCB secretariat belongs to no country."))
        return cleaned


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "country", "kind", "is_focal_point", "email"]
    list_filter = ["kind", "is_focal_point", ("country", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["country"]
    search_fields = ["name", "code", "country__name", "country__code", "email"]
    ordering = ["country__name", "name"]
    actions = ["make_focal_point"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AuthorityAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return AuthorityAddForm.Meta.fields
        return ["code", "kind", "country", "is_focal_point", "name", "email", "phone", "address", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Code, kind and country are fixed once created (the focal-point rule and the
        # authority's group hang on them); the focal point moves only by the action.
        if obj is None:
            return []
        return ["code", "kind", "country", "is_focal_point", "created_at"]

    def has_delete_permission(self, request, obj=None):
        # Users, notifications and the authority's group refer to it: deactivate users instead.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            # Contact details only (the rest is read only above).
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        authority, _created = services.create_authority(
            code=data["code"],
            name=data["name"],
            email=data["email"],
            country_code=data["country"].code if data["country"] else None,
            incb=data["kind"] == AuthorityKind.INCB,
            address=data["address"],
            phone=data["phone"],
        )
        # The admin logs and redirects with ``obj``: make it the row the service saved.
        obj.pk = authority.pk
        obj.refresh_from_db()

    @admin.action(description=_("Make focal point of its country"))
    def make_focal_point(self, request, queryset):
        selected = list(queryset.select_related("country"))
        countries = [authority.country_id for authority in selected if authority.country_id]
        if len(countries) != len(set(countries)):
            self.message_user(
                request, _("Choose at most one authority per country: a country has one focal point."), messages.ERROR
            )
            return
        moved = 0
        for authority in selected:
            try:
                services.set_focal_point(authority=authority)
            except ValidationError as error:
                self.message_user(request, f"{authority}: {'; '.join(error.messages)}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d authority is now its country's focal point.",
                    "%(count)d authorities are now their countries' focal points.",
                    moved,
                )
                % {"count": moved},
                messages.SUCCESS,
            )


@admin.register(Closure)
class ClosureAdmin(ReadOnlyAdmin):
    """Read only: closures are declared and withdrawn on the country pages (by INCB staff and
    the country's administrators), withdrawn only before their day, never deleted here."""

    list_display = ["country", "date", "reason", "declared_by", "declared_at"]
    list_filter = ["country"]
    search_fields = ["country__name", "country__code", "reason"]
    date_hierarchy = "date"
    list_select_related = ["country", "declared_by"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SubstanceChange)
class SubstanceChangeAdmin(ReadOnlyAdmin):
    """Read only: the history of the special surveillance list, written by
    authorities.surveillance with each change, never edited or deleted."""

    list_display = ["substance", "action", "at", "by", "reason"]
    list_filter = ["action"]
    search_fields = ["substance__name", "substance__code", "reason"]
    date_hierarchy = "at"
    list_select_related = ["substance", "by"]

    def has_delete_permission(self, request, obj=None):
        return False
