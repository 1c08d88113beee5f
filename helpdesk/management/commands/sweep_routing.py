from django.core.management.base import BaseCommand

from helpdesk.pool import sweep


class Command(BaseCommand):
    help = "Route every case whose routing task never ran (beat runs this every minute)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{sweep()} cases routed or placed in the pool")
