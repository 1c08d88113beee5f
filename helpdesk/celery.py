"""The Celery application. Tasks take ids, never model instances or case content."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def refuse_wrong_encryption_key(**kwargs) -> None:
    # A worker with a key that cannot read the stored data must not start working.
    from helpdesk.encryption import verify_key_canary

    verify_key_canary()
