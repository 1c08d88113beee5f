from django.core.management.base import BaseCommand

from helpdesk.referrals import remind_overdue_follow_ups


class Command(BaseCommand):
    help = "Remind volunteers of referrals whose follow-up date passed (beat runs this hourly)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{remind_overdue_follow_ups()} reminders queued")
