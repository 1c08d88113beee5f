from django.core.management.base import BaseCommand

from helpdesk.keys import rotate_all_keys, verify_key_canary


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value with the newest FIELD_ENCRYPTION_KEY (the first "
        "in the list). Afterwards the older keys can be removed."
    )

    def handle(self, *args, **options) -> None:
        verify_key_canary()
        for label, count in rotate_all_keys().items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS("All encrypted data now uses the newest key."))
