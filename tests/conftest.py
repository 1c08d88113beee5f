"""Shared fixtures: three named people (coordinator, volunteer, outsider) made with the
same functions production uses, and a sign-in that goes through the real allauth flow
(password, then a TOTP code)."""

from __future__ import annotations

import os
import sys
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from allauth.mfa.utils import decrypt
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from helpdesk import encryption
from helpdesk.models import User
from helpdesk.roles import Role
from resources import cache as library_cache

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"
# A Celery worker in a process of its own, as tests of the real worker start it.
CELERY_WORKER = [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
SERVICES = os.environ.get("HAVEN_TEST_SERVICES") == "1"


DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}


def pytest_collection_modifyitems(config, items):
    # Every test that uses the database uses both: a case's data key lives in the key
    # store ("keys"), which pytest-django would otherwise refuse to let a test reach.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs["databases"] = "__all__"
            args = marker.args if marker is not None else ()
            item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)
    # Tests of the real PostgreSQL/Redis/Celery run in CI's second pass, with the
    # services configured; in the embedded pass they are deselected, not skipped.
    if SERVICES:
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("services") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def seed_reference_data() -> None:
    """The languages and needs the migrations seed (their functions are idempotent)."""
    from importlib import import_module

    from django.apps import apps

    for migration in ("0002_seed_languages_and_needs", "0004_need_translations"):
        import_module(f"resources.migrations.{migration}").seed(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """A transactional test (live server, real commits) ends with a flush that empties
    every table, the migrations' seed included, and pytest-django runs all of them after
    the others. So each one lays the seed first. (serialized_rollback cannot do it: it
    trips over the content types a flush re-creates, and Playwright's thread uses
    another connection.)"""
    marker = request.node.get_closest_marker("django_db")
    if (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        request.getfixturevalue("transactional_db")
        seed_reference_data()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing strength is Django's concern; the suite needs speed on two cores.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # A database cache is rolled back with each test; Redis has to be emptied.
    from django.conf import settings

    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        cache.clear()
    # The library version this process last read may belong to a rolled-back test.
    library_cache.forget_version()
    # So may the data keys stored ahead for new cases (new_data_key would notice and
    # store others; starting empty keeps each test's key store the same whatever ran
    # before it).
    encryption._reserve.discard()


def make_staff(email: str, role: Role, *, mfa: bool = True, first_name: str = "") -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, first_name=first_name)
    if mfa:
        TOTP.activate(user, generate_totp_secret())
    return user


def train(user: User, *, languages, needs, capacity: int) -> User:
    """Give a staff member languages, needs and a capacity, as a coordinator would."""
    from resources.models import Language, Need

    user.profile.languages.set(Language.objects.filter(code__in=languages))
    user.profile.needs.set(Need.objects.filter(slug__in=needs))
    user.profile.capacity = capacity
    user.profile.save()
    return user


def totp_code(user: User, *, offset: int = 0) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def sign_in(client: Client, user: User, *, password: str = PASSWORD) -> None:
    """Sign in as a person does: email and password, then the authenticator code."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    if response.url == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
        assert response.status_code == 302, response.content[:500]


def sign_in_with_set_up_link(client: Client, user: User) -> None:
    """Sign in as a person with no second factor does: a coordinator's reset mails a
    set-up link, which lets them choose a password (here the same one) and enrol."""
    import re

    from django.core import mail

    from helpdesk.invitations import reset_second_factor

    reset_second_factor(user=user, by=None)
    link = re.search(r"https?://\S+(/accounts/set-up/\S+/)", mail.outbox[-1].body).group(1)
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.url == reverse("mfa_activate_totp"), response.content[:500]


@pytest.fixture
def coordinator(db) -> User:
    return make_staff("coordinator@example.org", Role.COORDINATOR, first_name="Cora")


@pytest.fixture
def volunteer(db) -> User:
    return make_staff("volunteer@example.org", Role.VOLUNTEER, first_name="Vic")


@pytest.fixture
def outsider(db) -> User:
    """A staff account that never enrolled a second factor."""
    return make_staff("outsider@example.org", Role.VOLUNTEER, mfa=False)


@pytest.fixture
def coordinator_client(client: Client, coordinator: User) -> Client:
    sign_in(client, coordinator)
    return client


@pytest.fixture
def volunteer_client(client: Client, volunteer: User) -> Client:
    sign_in(client, volunteer)
    return client


def cache_keys() -> list[str]:
    """Every key in the shared cache, whichever backend this run uses."""
    from django.conf import settings
    from django.db import connection

    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
            cursor.execute(f"SELECT cache_key FROM {table}")  # noqa: S608 - a setting
            return [row[0] for row in cursor.fetchall()]
    client = cache._cache.get_client()
    return [key.decode() for key in client.keys("*")]


@pytest.fixture
def library(db):
    """The real guidance library from resources/content, loaded as `make run` does."""
    from resources.loader import load_resources

    return load_resources()
