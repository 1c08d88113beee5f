from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Help desk")

    def ready(self) -> None:
        # Imported once the models are ready (Django's rule for anything that touches
        # them), not to dodge a cycle: the tasks register themselves with Celery, so
        # that helpdesk/queue.py finds them by name in every process, not only workers.
        from allauth.mfa.signals import authenticator_added

        from helpdesk import (
            checks,  # noqa: F401 - registers Haven's system checks
            tasks,  # noqa: F401 - registers the tasks
        )
        from helpdesk.mfa import record_enrolment

        authenticator_added.connect(record_enrolment, dispatch_uid="haven_record_enrolment")
