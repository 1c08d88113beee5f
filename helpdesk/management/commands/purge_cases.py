from django.core.management.base import BaseCommand

from helpdesk.retention import purge_expired_cases


class Command(BaseCommand):
    help = (
        "Destroy the content of cases past the retention period, keeping anonymous "
        "statistics (beat runs this hourly)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{purge_expired_cases()} cases purged")
