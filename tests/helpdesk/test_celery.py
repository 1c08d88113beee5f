import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from helpdesk.celery import app
from helpdesk.models import Invitation
from helpdesk.tasks import purge_expired_invitations


def expired_invitation() -> Invitation:
    return Invitation.objects.create(
        email="late@example.org",
        token_hash="x" * 64,
        expires_at=timezone.now() - timedelta(minutes=1),
    )


def test_tasks_are_acknowledged_late_and_survive_a_lost_worker():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"


def test_beat_schedules_the_purge():
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "helpdesk.tasks.purge_expired_invitations" in entries


def test_the_task_runs_the_same_function_as_the_command(db):
    expired_invitation()
    assert purge_expired_invitations.delay().get() == 1
    assert not Invitation.objects.exists()


@pytest.mark.services
def test_a_real_worker_runs_a_task_through_redis(transactional_db, tmp_path):
    assert settings.REDIS_URL and connection.vendor == "postgresql"
    invitation = expired_invitation()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_EAGER": "false",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    try:
        # Tasks keep no result (nothing reads one): wait for what the task does.
        purge_expired_invitations.delay()
        deadline = time.monotonic() + 60
        while Invitation.objects.filter(pk=invitation.pk).exists():
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.2)
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
