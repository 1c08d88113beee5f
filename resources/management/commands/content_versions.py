from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from resources.loader import CONTENT_DIR
from resources.versions import TEXT_OF_FOLDER, file_status
from resources.versions import stamp as stamp_file


class Command(BaseCommand):
    help = (
        "List the translations in resources/content/ made from an older source text; "
        "with --stamp, record that the named translations now follow the current one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, help="Content files (default: all).")
        parser.add_argument(
            "--stamp",
            metavar="CODES",
            help="Comma-separated languages (or 'all') whose translations in PATHS were "
            "brought in line with the current source text.",
        )

    def handle(self, *args, paths: list[Path], stamp: str | None, **options) -> None:
        if stamp and not paths:
            raise CommandError("Name the files whose translations you brought up to date.")
        paths = paths or [
            path
            for folder in TEXT_OF_FOLDER
            for path in sorted((CONTENT_DIR / folder).glob("*.toml"))
        ]
        behind = 0
        for path in paths:
            if path.parent.name not in TEXT_OF_FOLDER:
                raise CommandError(f"{path} is not in a folder of {', '.join(TEXT_OF_FOLDER)}.")
            status = file_status(path)
            if stamp:
                codes = status.behind if stamp == "all" else stamp.split(",")
                done = stamp_file(path, codes)
                self.stdout.write(f"{path}: stamped {', '.join(done) or 'nothing'}")
                continue
            if status.behind:
                behind += len(status.behind)
                self.stdout.write(f"{path}: behind the source text: {', '.join(status.behind)}")
        if not stamp:
            self.stdout.write(f"{behind} translation(s) behind their source text.")
