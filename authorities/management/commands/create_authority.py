from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from authorities.services import create_authority


class Command(BaseCommand):
    help = "Create a competent national authority (or the INCB secretariat). Idempotent on --code."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", required=True)
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--country", help="ISO 3166-1 alpha-2 code")
        where.add_argument("--incb", action="store_true", help="the INCB secretariat")
        parser.add_argument("--address", default="")
        parser.add_argument("--phone", default="")

    def handle(self, *args, **o):
        try:
            authority, created = create_authority(
                code=o["code"],
                name=o["name"],
                email=o["email"],
                country_code=o["country"],
                incb=o["incb"],
                address=o["address"],
                phone=o["phone"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        verb = "created" if created else "already exists"
        self.stdout.write(f"authority {authority.code} {verb}")
