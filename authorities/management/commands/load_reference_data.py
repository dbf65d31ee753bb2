from django.core.management.base import BaseCommand

from authorities.services import load_reference_data


class Command(BaseCommand):
    help = "Load ISO 3166-1 countries and the substance catalogue. Idempotent."

    def handle(self, *args, **options):
        report = load_reference_data()
        self.stdout.write(
            f"countries: {report.countries_created} created, {report.countries_updated} updated; "
            f"substances: {report.substances_created} created, {report.substances_updated} updated"
        )
        if not report.changed:
            self.stdout.write("reference data already up to date")
