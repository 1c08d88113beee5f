from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from helpdesk.invitations import invite_staff
from helpdesk.models import User
from helpdesk.roles import Role


class Command(BaseCommand):
    help = (
        "Mail an invitation, as a coordinator does from the team page: the way to the first "
        "coordinator of a new desk. A second factor is set up only through such a link."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.COORDINATOR)

    def handle(self, *args, email: str, role: str, **options) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError("This address already has an account.")
        invite_staff(email=email, role=Role(role), invited_by=None)
        # The link is in the mail only: never on this terminal, in a log or a shell history.
        self.stdout.write(self.style.SUCCESS(f"Invitation mailed to {email.lower()}."))
