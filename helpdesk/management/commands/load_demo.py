from django.core.management.base import BaseCommand

from helpdesk.demo import DEMO_PASSWORD, load_demo_cases, load_demo_staff


class Command(BaseCommand):
    help = "Create the demo coordinator and volunteers (embedded default only; idempotent)."

    def handle(self, *args, **options) -> None:
        for user in load_demo_staff():
            self.stdout.write(f"  {user.get_role_display():<12} {user.email}")
        self.stdout.write(f"  password for all of them: {DEMO_PASSWORD}")
        created = load_demo_cases()
        if created:
            self.stdout.write(f"  {created} made-up cases routed to the volunteers")
