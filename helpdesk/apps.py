from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Help desk")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from helpdesk import checks  # noqa: F401 - registers Haven's system checks
        from helpdesk.mfa import record_enrolment

        authenticator_added.connect(record_enrolment, dispatch_uid="haven_record_enrolment")
