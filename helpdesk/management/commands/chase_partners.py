from django.core.management.base import BaseCommand

from helpdesk.partners import chase_partners


class Command(BaseCommand):
    help = (
        "Remind partners that have not answered a referral in their stated time, once, and "
        "tell the desk of referrals stalled past twice that time (beat runs this hourly)."
    )

    def handle(self, *args, **options) -> None:
        reminders, stalls = chase_partners()
        self.stdout.write(f"{reminders} partner reminders and {stalls} stall notices queued")
