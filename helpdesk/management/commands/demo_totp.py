from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.demo import current_totp_code
from helpdesk.models import User


class Command(BaseCommand):
    help = "Print the current two-step sign-in code of a demo account (embedded default only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", nargs="?", default="coordinator@haven.test")

    def handle(self, *args, email: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp exists only in the embedded default.")
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No account {email}; run `make demo` first.")
        self.stdout.write(current_totp_code(user))
