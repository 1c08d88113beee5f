from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from resources.loader import CONTENT_DIR, ContentError, load_resources


class Command(BaseCommand):
    help = (
        "Load guidance, organisations and referral templates from resources/content/. "
        "Idempotent: what exists is kept as coordinators left it, unless --update."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite existing entries with the files' text (edits in the admin are lost).",
        )
        parser.add_argument(
            "--directory", type=Path, default=CONTENT_DIR, help="Where the TOML files are."
        )

    def handle(self, *args, update: bool, directory: Path, **options) -> None:
        try:
            report = load_resources(directory=directory, update=update)
        except ContentError as error:
            raise CommandError("Nothing was loaded:\n" + "\n".join(error.problems)) from None
        for line in report.lines():
            self.stdout.write(f"  {line}")
