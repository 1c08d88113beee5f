"""Haven's production settings for `make chaos` (bench/chaos.py), with three time scales
shortened so that a run of a minute sees what production sees over an hour:

- a task whose worker was killed is delivered again after 15 s, not after Celery's
  hour-long visibility timeout;
- beat sweeps every 10 s instead of every minute, and queues again an assignment
  notice unsent after 5 s instead of a minute;
- email goes to files in the run's directory (CHAOS_MAIL_DIR), so that every notice
  sent can be counted, duplicates included.

Only bench/chaos.py uses this module; the app's settings stay untouched."""

import os

from bench.settings import *  # noqa: F403
from bench.settings import CELERY_BEAT_SCHEDULE, CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": 15,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "sweep-routing": {**CELERY_BEAT_SCHEDULE["sweep-routing"], "schedule": 10.0},
}
ASSIGNMENT_NOTICE_GRACE_SECONDS = 5
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["CHAOS_MAIL_DIR"]
