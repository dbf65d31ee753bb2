from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services import create_api_client
from authorities.models import Authority


class Command(BaseCommand):
    help = (
        "Create an OAuth 2.0 client (client credentials) for a licensing system of one authority. "
        "Prints client_id=... and client_secret=..., each on its own line; the secret is not stored "
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

    def handle(self, *args, **options):
        authority = Authority.objects.filter(code=options["authority"]).first()
        if authority is None:
            raise CommandError(_("No authority has the code %(code)r.") % {"code": options["authority"]})
        try:
            _client, client_id, secret = create_api_client(
                authority=authority, name=options["name"], scopes=options["scopes"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"client_id={client_id}")
        self.stdout.write(f"client_secret={secret}")
