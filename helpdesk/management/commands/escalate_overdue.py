from django.core.management.base import BaseCommand

from helpdesk.escalation import escalate_overdue


class Command(BaseCommand):
    help = "Flag cases whose first answer is overdue and tell the coordinators (beat: 5 min)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{escalate_overdue()} cases escalated")
