from time import monotonic

from django.core.management.base import BaseCommand

from helpdesk.rollups import rebuild, refresh_changed, tidy


class Command(BaseCommand):
    help = (
        "Recompute the reports' daily rollups from every case and referral (after an "
        "upgrade or a bulk import); with --changed, only the days marked as changed, "
        "and the month rows of ended months changed since (beat runs that every minute)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--changed",
            action="store_true",
            help="only the days marked as changed, and the changed ended months' rows",
        )

    def handle(self, *args, changed: bool = False, **options) -> None:
        started = monotonic()
        if changed:
            self.stdout.write(f"{refresh_changed()} days recomputed")
        else:
            rows = rebuild()
            self.stdout.write(f"{rows} rollup rows rebuilt in {monotonic() - started:.1f} s")
            if tidy():
                self.stdout.write("and vacuumed (statistics and visibility map)")
