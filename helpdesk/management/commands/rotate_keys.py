from django.core.management.base import BaseCommand

from helpdesk.keys import rotate_all_keys, verify_key_canary


class Command(BaseCommand):
    help = (
        "Move everything the master keys encrypt to the newest FIELD_ENCRYPTION_KEY (the "
        "first in the list): every case's data key is re-wrapped (the content itself is not "
        "re-encrypted), then the second-factor secrets and the canary. Afterwards the older "
        "keys can be removed."
    )

    def handle(self, *args, **options) -> None:
        verify_key_canary()
        for label, count in rotate_all_keys().items():
            verb = "re-wrapped" if label == "keystore.DataKey" else "re-encrypted"
            self.stdout.write(f"{label}: {count} rows {verb}")
        self.stdout.write(self.style.SUCCESS("All encrypted data now uses the newest key."))
