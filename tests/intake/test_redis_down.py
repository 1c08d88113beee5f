"""While Redis is away, the intake keeps accepting concerns and showing receipts; rate
limits fall back to this process's memory; a case whose routing could not be queued is
routed by the sweep."""

import logging
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from helpdesk import pool
from helpdesk.cache import FallbackRedisCache
from helpdesk.models import Case
from tests.conftest import train
from tests.intake.conftest import CANARY, concern, receipt_in

DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.FallbackRedisCache",
            "LOCATION": DEAD_REDIS,
            "KEY_PREFIX": "haven",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield


def test_the_cache_answers_from_memory_and_warns_once_without_content(caplog):
    backend = FallbackRedisCache(DEAD_REDIS, {"OPTIONS": {"socket_connect_timeout": 1}})
    caplog.set_level(logging.WARNING, logger="helpdesk.cache")
    assert backend.get("secret-key-name") is None
    assert backend.add("secret-key-name", "secret-value", 60)
    assert not backend.add("secret-key-name", "other", 60)
    assert backend.add("secret-count", 1, 60)
    assert backend.incr("secret-count") == 2
    assert backend.get("secret-key-name") == "secret-value"
    assert backend.get_many(["secret-key-name", "missing"]) == {"secret-key-name": "secret-value"}
    warnings = [record for record in caplog.records if record.name == "helpdesk.cache"]
    assert len(warnings) == 1
    assert "secret" not in warnings[0].getMessage()


def test_concerns_are_accepted_and_receipts_open_while_redis_is_away(db, redis_down):
    response = Client().post(reverse("intake:write"), concern_data(), follow=True)
    assert response.status_code == 200
    receipt = receipt_in(response)
    visitor = Client()
    opened = visitor.post(reverse("intake:follow_up"), {"receipt": receipt})
    assert opened.status_code == 302
    assert CANARY in visitor.get(reverse("intake:inbox")).content.decode()


def test_receipt_guessing_is_still_slowed_while_redis_is_away(db, redis_down, settings):
    settings.RECEIPT_FAILURES_PER_ADDRESS = 3
    cache.clear()
    guesser = Client()
    wrong = {"receipt": "0000-0000-0000-0000-0000"}
    for _ in range(3):
        response = guesser.post(reverse("intake:follow_up"), wrong)
        assert "could not open a case" in response.content.decode()
    started = time.monotonic()
    response = guesser.post(reverse("intake:follow_up"), wrong)
    assert time.monotonic() - started >= 0.25
    assert response.status_code == 400


def test_a_case_whose_routing_could_not_be_queued_is_routed_by_the_sweep(
    volunteer, monkeypatch, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    train(volunteer, languages=["en"], needs=["asylum-be"], capacity=3)

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("helpdesk.tasks.route_case.delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("intake:write"), concern_data(), follow=True)
    assert response.status_code == 200
    receipt_in(response)
    case = Case.objects.get()
    assert case.needs_routing and case.volunteer is None
    pool.sweep()
    case.refresh_from_db()
    assert not case.needs_routing
    assert case.volunteer == volunteer
    pool.sweep()  # a second sweep changes nothing
    assert case.assignments.count() == 1


def concern_data() -> dict:
    return concern()
