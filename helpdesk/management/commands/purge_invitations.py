from django.core.management.base import BaseCommand

from helpdesk.invitations import purge_expired_invitations


class Command(BaseCommand):
    help = "Delete invitations that expired without being used (beat runs this hourly)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{purge_expired_invitations()} expired invitations deleted")
