from django.core.management.base import BaseCommand

from helpdesk.report_views import warm_up


class Command(BaseCommand):
    help = (
        "Compute the reports' standard views (each preset period, no other filter) into "
        "the shared cache (beat runs this every four minutes)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{warm_up()} report views computed")
