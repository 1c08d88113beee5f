from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from helpdesk.models import Case


class Command(BaseCommand):
    help = (
        "Whether a case's data key still exists in the key store: for a coordinator "
        "answering \"is it really gone?\". Prints no content and no key."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("reference", help="the case's reference, as the desk shows it")

    def handle(self, *args, reference: str, **options) -> None:
        case = Case.objects.filter(reference=reference.strip().upper()).first()
        if case is None:
            raise CommandError("No case has this reference.")
        if case.key_exists:
            self.stdout.write(
                f"Case {case.reference}: its key exists. Its content can be read here and "
                "in copies of the database."
            )
            return
        if not case.content_destroyed:
            raise CommandError(
                f"Case {case.reference}: its key is gone but its content was not marked "
                "destroyed (a destruction was interrupted). Destroy it again to finish."
            )
        window = settings.KEY_STORE_BACKUP_DAYS
        until = case.content_destroyed_at + timedelta(days=window)
        self.stdout.write(
            f"Case {case.reference}: its key was destroyed on "
            f"{case.content_destroyed_at:%Y-%m-%d %H:%M} UTC. No copy of the main database "
            "can read it, whenever the copy was taken. Backups of the key store are kept "
            f"{window} days: from {until:%Y-%m-%d %H:%M} UTC no copy anywhere can."
        )
