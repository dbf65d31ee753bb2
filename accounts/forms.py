"""Forms of the accounts pages: they check the shape of the input; the services decide."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import RECOVERY_CODE_LENGTH, Role, User, normalize_recovery_code, roles_for
from .oauth import scopes_authority_may_hold


def _role_choices(authority):
    return [(role.value, role.label) for role in roles_for(authority)]


# Every message names what is wrong and what to do ("Enter the person's e-mail address."),
# never Django's bare "This field is required.", which says neither once it stands in an
# error summary away from its field (issue 18, defect 6).
ROLE_ERRORS = {
    "required": _("Choose the person's role."),
    "invalid_choice": _("Choose one of the roles listed."),
}


def _say(form, messages):
    """Replace Django's messages on the fields of one of its own auth forms."""
    for (name, code), message in messages.items():
        form.fields[name].error_messages[code] = message


class PortalAuthenticationForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _say(
            self,
            {("username", "required"): _("Enter your user name."), ("password", "required"): _("Enter your password.")},
        )


class PortalPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _say(
            self,
            {
                ("old_password", "required"): _("Enter your current password."),
                ("new_password1", "required"): _("Choose a new password."),
                ("new_password2", "required"): _("Enter the new password again, to be sure it is typed as meant."),
            },
        )


class PortalPasswordResetForm(PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _say(
            self,
            {
                ("email", "required"): _("Enter the e-mail address of your account."),
                ("email", "invalid"): _("Enter your e-mail address in full, like name@example.org."),
            },
        )


class PortalSetPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _say(
            self,
            {
                ("new_password1", "required"): _("Choose a new password."),
                ("new_password2", "required"): _("Enter the new password again, to be sure it is typed as meant."),
            },
        )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("The invitation link is sent to this address. It works once."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": _("Enter the person's e-mail address."),
            "invalid": _("Enter the person's e-mail address in full, like name@example.org."),
            "max_length": _("Enter an e-mail address of at most %(limit_value)d characters."),
        },
    )
    role = forms.ChoiceField(label=_("Role"), error_messages=ROLE_ERRORS)

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(authority)
        self.fields["role"].initial = Role.VIEWER if not authority.is_incb else Role.REVIEWER


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), error_messages=ROLE_ERRORS)

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(authority)


class AcceptInvitationForm(forms.Form):
    """The invited person chooses how they log in. The password is held to the
    installation's password validators, judged against the name and address too."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        validators=[UnicodeUsernameValidator(message=_("Use only letters, digits and @ . + - _ in your user name."))],
        help_text=_("Letters, digits and @ . + - _ only. You log in with it."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        error_messages={
            "required": _("Choose a user name: you log in with it."),
            "max_length": _("Choose a user name of at most %(limit_value)d characters."),
        },
    )
    first_name = forms.CharField(
        label=_("Given name"),
        max_length=150,
        required=False,
        error_messages={"max_length": _("Enter a given name of at most %(limit_value)d characters.")},
    )
    last_name = forms.CharField(
        label=_("Family name"),
        max_length=150,
        required=False,
        error_messages={"max_length": _("Enter a family name of at most %(limit_value)d characters.")},
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choose a password.")},
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter the same password again, to be sure it is typed as meant.")},
    )

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        # Read when the form is built, not at import, so the configured validators apply.
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=10,
        strip=True,
        help_text=_("The code your authenticator app shows now."),
        error_messages={
            "required": _("Enter the six-digit code your authenticator app shows now."),
            "invalid": _("Enter the six digits your authenticator app shows."),
            "max_length": _("Enter the six digits your authenticator app shows."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Recovery code"),
        max_length=30,
        strip=True,
        help_text=_("One of the codes you kept when you set up two-factor sign-in, like abcde-fghij. Each works once."),
        error_messages={
            "required": _("Enter one of your recovery codes, like abcde-fghij."),
            "max_length": _("Enter the ten letters and digits of a recovery code, like abcde-fghij."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if len(normalize_recovery_code(code)) != RECOVERY_CODE_LENGTH:
            raise ValidationError(_("Enter the ten letters and digits of a recovery code, like abcde-fghij."))
        return code


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system uses it, for example “National licensing system (production)”."),
        error_messages={
            "required": _("Give the client a name: which system uses it."),
            "max_length": _("Give the client a name of at most %(limit_value)d characters."),
        },
    )
    # Nothing is ticked at first: least privilege is the administrator's choice, scope by
    # scope, not a default to untick (issue 18, defect 6).
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Grant only what the system needs."),
        error_messages={
            "required": _("Choose at least one scope: what the system may do. A client without one could do nothing."),
            "invalid_choice": _("Choose only scopes from the list."),
        },
    )

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = scopes_authority_may_hold(authority)
        self.fields["scopes"].choices = [(scope, f"{scope}: {settings.API_SCOPES[scope]}") for scope in allowed]
