import re
import shlex

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services import create_api_client
from authorities.models import Authority

SHELL_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shell_prefix(value: str) -> str:
    """The variable prefix for ``--shell``: a shell name, so ``PREFIX_ID`` is one too."""
    if not SHELL_PREFIX.fullmatch(value):
        raise CommandError(
            _("--shell takes a shell variable name (letters, digits and _, not starting with a digit), not %(value)r.")
            % {"value": value}
        )
    return value


class Command(BaseCommand):
    help = (
        "Create an OAuth 2.0 client (client credentials) for a licensing system of one authority. "
        "Prints client_id=... and client_secret=..., each on its own line (with --shell PREFIX, the shell "
        "assignments PREFIX_ID='...' and PREFIX_SECRET='...', for eval); the secret is not stored "
        "in readable form and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--authority", required=True, help="the authority's code")
        parser.add_argument("--name", required=True, help="which system uses the client")
        parser.add_argument(
            "--scopes",
            nargs="+",
            metavar="SCOPE",
            help="scopes to grant (default: every scope the authority may hold)",
        )
        parser.add_argument(
            "--shell",
            metavar="PREFIX",
            help="print shell assignments PREFIX_ID='...' and PREFIX_SECRET='...' instead, quoted for "
            'eval "$(manage.py create_api_client ... --shell PREFIX)"',
        )

    def handle(self, *args, **options):
        # Checked before anything is created: a bad prefix leaves no client behind.
        prefix = shell_prefix(options["shell"]) if options["shell"] is not None else None
        authority = Authority.objects.filter(code=options["authority"]).first()
        if authority is None:
            raise CommandError(_("No authority has the code %(code)r.") % {"code": options["authority"]})
        try:
            _client, client_id, secret = create_api_client(
                authority=authority, name=options["name"], scopes=options["scopes"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if prefix is None:
            self.stdout.write(f"client_id={client_id}")
            self.stdout.write(f"client_secret={secret}")
        else:
            self.stdout.write(f"{prefix}_ID={shlex.quote(client_id)}")
            self.stdout.write(f"{prefix}_SECRET={shlex.quote(secret)}")
