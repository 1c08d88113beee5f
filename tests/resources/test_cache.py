"""The library kept in process memory (resources/cache.py): made once, made again when
the library changes or the entry grows old, the least recently used dropped first, and
the last entry served while the database is away."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache as shared_cache
from django.db import DatabaseError

from resources import cache
from resources.models import Need
from tests.resources.conftest import add_guidance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty():
    cache.clear()
    yield
    cache.clear()


class Builder:
    """Counts its builds; each build returns the library's needs as they are now."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self) -> list[str]:
        self.builds += 1
        return sorted(Need.objects.values_list("slug", flat=True))


def test_an_entry_is_made_once_and_then_kept():
    build = Builder()
    first = cache.remember("needs", build)
    assert cache.remember("needs", build) is first
    assert build.builds == 1


def test_a_change_to_the_library_makes_the_entry_again(django_capture_on_commit_callbacks):
    build = Builder()
    cache.remember("needs", build)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Need.objects.create(slug="housing", name="A safe place to sleep", position=9)
    assert callbacks  # the version is renewed again once the change is committed
    assert "housing" in cache.remember("needs", build)
    assert build.builds == 2


def test_a_change_outside_the_library_keeps_the_entry():
    build = Builder()
    cache.remember("needs", build)
    version = cache.version()
    Group.objects.create(name="Night shift")
    assert cache.version() == version
    cache.remember("needs", build)
    assert build.builds == 1


def test_an_edited_guidance_text_is_read_again():
    piece = add_guidance("dublin")
    title = lambda: piece.translations.get(language="en").title  # noqa: E731
    assert cache.remember("title", title) == "dublin in en"
    translation = piece.translations.get(language="en")
    translation.title = "The Dublin rules"
    translation.save()
    assert cache.remember("title", title) == "The Dublin rules"


def test_an_entry_older_than_max_age_is_made_again(monkeypatch):
    # For writes that send no signal (QuerySet.update, bulk_create).
    build = Builder()
    cache.remember("needs", build)
    monkeypatch.setattr(cache, "MAX_AGE", 0)
    cache.remember("needs", build)
    assert build.builds == 2


def test_the_least_recently_used_entry_goes_first(monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    builds = []

    def build(name):
        return lambda: builds.append(name) or name

    cache.remember("a", build("a"))
    cache.remember("b", build("b"))
    cache.remember("a", build("a"))  # used again: now "b" is the oldest in use
    cache.remember("c", build("c"))
    cache.remember("a", build("a"))
    cache.remember("b", build("b"))
    assert builds == ["a", "b", "c", "b"]


def test_while_the_database_is_away_the_last_entry_is_served_whatever_its_age(monkeypatch):
    cache.remember("needs", Builder())
    monkeypatch.setattr(cache, "MAX_AGE", 0)

    def unreachable():
        raise DatabaseError("the database is away")

    assert "asylum-be" in cache.remember("needs", unreachable)
    with pytest.raises(DatabaseError):
        cache.remember("never made", unreachable)


def test_with_the_version_unreadable_the_entry_is_served_and_nothing_new_is_kept(monkeypatch):
    build = Builder()
    kept = cache.remember("needs", build)
    monkeypatch.setattr(cache, "_read_version", lambda: cache.UNKNOWN)
    monkeypatch.setattr(cache, "MAX_AGE", 0)
    cache.forget_version()
    assert cache.remember("needs", build) is kept
    assert build.builds == 1
    cache.remember("other", build)
    cache.remember("other", build)
    assert build.builds == 3  # not kept: its version could not be told


def test_the_version_lives_in_the_shared_cache():
    Need.objects.create(slug="housing", name="A safe place to sleep", position=9)
    assert shared_cache.get(cache.VERSION_KEY) == cache.version() is not None


def test_another_process_s_change_is_seen_within_the_check_interval(monkeypatch):
    build = Builder()
    cache.remember("needs", build)
    shared_cache.set(cache.VERSION_KEY, "set by another process", timeout=None)
    cache.remember("needs", build)
    assert build.builds == 1  # not asked again on every use ...
    later = cache.time.monotonic() + cache.VERSION_CHECK_SECONDS
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    cache.remember("needs", build)
    assert build.builds == 2  # ... but within the interval
    assert cache.version() == "set by another process"
