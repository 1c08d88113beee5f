import os
import subprocess
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.utils import timezone

from helpdesk.celery import app
from helpdesk.keys import verify_key_canary
from helpdesk.models import Invitation
from helpdesk.tasks import purge_expired_invitations
from tests.conftest import CELERY_WORKER


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


def worker_environment(**extra: str) -> dict[str, str]:
    """This test run's PostgreSQL database and Redis, for a worker in another process."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_EAGER": "false",
        **extra,
    }


@pytest.mark.services
def test_a_worker_with_the_wrong_key_takes_no_task(transactional_db):
    assert settings.REDIS_URL and connection.vendor == "postgresql"
    verify_key_canary()  # the canary, written with this run's key
    invitation = expired_invitation()
    app.conf.task_always_eager = False
    try:
        purge_expired_invitations.delay()  # waiting in Redis
        worker = subprocess.run(  # noqa: S603
            [*CELERY_WORKER, "--loglevel=INFO"],
            cwd=settings.BASE_DIR,
            env=worker_environment(FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode()),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        app.control.purge()
    assert worker.returncode != 0
    assert "cannot read the data already stored" in worker.stdout + worker.stderr
    assert Invitation.objects.filter(pk=invitation.pk).exists()  # the task never ran


@pytest.mark.services
def test_a_real_worker_runs_a_task_through_redis(transactional_db, tmp_path):
    assert settings.REDIS_URL and connection.vendor == "postgresql"
    invitation = expired_invitation()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603
        [*CELERY_WORKER, "--loglevel=WARNING"],
        cwd=settings.BASE_DIR,
        env=worker_environment(),
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
