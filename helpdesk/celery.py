"""The Celery application. Tasks take ids, never model instances or case content."""

import logging
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_init.connect
def refuse_wrong_encryption_key(**kwargs) -> None:
    """A worker whose keys cannot read the stored data must not work. This runs in the
    worker's main process before its pool starts or any task is taken; Celery logs and
    ignores an exception from a signal receiver, so the worker exits here itself.
    (Imported here: this module is loaded with the project, before Django is set up.)"""
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections

    from helpdesk.keys import verify_key_canary

    try:
        verify_key_canary()
    except ImproperlyConfigured as error:
        logger.critical("The worker stops: %s", error)
        raise SystemExit(1) from None
    finally:
        connections.close_all()  # the pool's processes open their own
