from django.core.management.base import BaseCommand

from helpdesk.demo import DEMO_PASSWORD, DEMO_STAFF, load_demo_cases, load_demo_staff


class Command(BaseCommand):
    help = "Create the demo coordinator and volunteers (embedded default only; idempotent)."

    def handle(self, *args, **options) -> None:
        load_demo_staff()
        for staff in DEMO_STAFF:
            self.stdout.write(
                f"  {staff.role.label:<12} {staff.email:<24} speaks {', '.join(staff.languages)};"
                f" trained for {', '.join(staff.needs)}; up to {staff.capacity} cases"
            )
        self.stdout.write(f"  password for all of them: {DEMO_PASSWORD}")
        created = load_demo_cases()
        if created:
            self.stdout.write(f"  {created} made-up cases routed to the volunteers")
