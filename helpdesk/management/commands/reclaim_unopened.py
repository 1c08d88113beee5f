from django.core.management.base import BaseCommand

from helpdesk.pool import reclaim_unopened


class Command(BaseCommand):
    help = "Take back assignments nobody opened in time and route them again (beat: 10 min)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{reclaim_unopened()} unopened assignments taken back")
