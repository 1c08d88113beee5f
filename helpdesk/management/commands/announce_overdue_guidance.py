from django.core.management.base import BaseCommand

from helpdesk.notifications import announce_overdue_guidance


class Command(BaseCommand):
    help = "Tell the coordinators, once, of guidance past its review date (beat: hourly)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{announce_overdue_guidance()} notices sent")
