"""What the public pages show every visitor alike: the concern form's choices and its
unfilled fields, the needs on the start page, the guidance matched to a receipt. They
come from the library (resources) and from django-countries, so they change only when a
coordinator edits the library or with a deploy. They are kept in this process's memory,
so such a page needs no query and no template loop over hundreds of options.

Nothing a visitor typed and no per-request token (CSRF, submission key) is kept here.

Freshness: any save or delete of a resources model sets a new random library version
in the shared cache, at once and again after commit (so a process that rebuilt from the
old rows between the two is corrected); an entry made under another version is made
again. Entries also expire after MAX_AGE, for writes that send no signal
(`QuerySet.update`, `bulk_create`). While the database is down, the last entry is served
whatever its age, so the form still renders and keeps what was typed.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext as _
from django_countries import countries

from resources.models import Language, Need

VERSION_KEY = "intake:library-version"
MAX_AGE = 600
MAX_ENTRIES = 512

T = TypeVar("T")

_entries: OrderedDict[Hashable, tuple[str | None, float, object]] = OrderedDict()
_lock = threading.Lock()
# The version is read from the shared cache once per request, not once per entry.
_request = threading.local()
_UNREAD = object()
UNKNOWN = object()  # the cache holding the version cannot be read


def version() -> str | None:
    if not getattr(_request, "active", False):  # outside a request: always ask
        return _read_version()
    if _request.version is _UNREAD:
        _request.version = _read_version()
    return _request.version


def _read_version():
    try:
        return cache.get(VERSION_KEY)
    except DatabaseError:  # the embedded default keeps its cache in the database
        return UNKNOWN


def remember(key: Hashable, build: Callable[[], T]) -> T:
    """The entry for `key`, made with `build()` if missing, stale or of another version."""
    current = version()
    entry = _entries.get(key)
    if entry is not None and (
        current is UNKNOWN or (entry[0] == current and time.monotonic() - entry[1] < MAX_AGE)
    ):
        return entry[2]
    try:
        value = build()
    except DatabaseError:
        if entry is None:
            raise
        return entry[2]  # the database is away: the last known library beats no page
    if current is not UNKNOWN:
        with _lock:
            _entries[key] = (current, time.monotonic(), value)
            _entries.move_to_end(key)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (a process that must not trust what it kept; tests)."""
    with _lock:
        _entries.clear()


def library_changed(sender, **kwargs) -> None:
    # Models of a migration's state are not the app's (a deploy restarts processes anyway).
    if sender._meta.app_label != "resources" or sender._meta.apps is not apps:
        return
    _new_version()
    transaction.on_commit(_new_version)


def _new_version() -> None:
    token = secrets.token_hex(8)
    cache.set(VERSION_KEY, token, timeout=None)
    _request.version = token


def _request_started(**kwargs) -> None:
    _request.active = True
    _request.version = _UNREAD


def _request_finished(**kwargs) -> None:
    _request.active = False


def connect() -> None:
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(library_changed, dispatch_uid=f"intake.library.{signal!r}")
    request_started.connect(_request_started, dispatch_uid="intake.library.started")
    request_finished.connect(_request_finished, dispatch_uid="intake.library.finished")


class Choices(BaseChoiceIterator):
    """Choices already in Django's normal form: a form field takes them as they are
    instead of normalising ~250 countries again for every form."""

    def __init__(self, choices) -> None:
        self.choices = tuple(choices)

    def __iter__(self):
        return iter(self.choices)


@dataclass(frozen=True)
class ConcernChoices:
    needs: Choices
    need_by_pk: dict[str, Need]
    countries: Choices
    languages: dict[str, str]
    first_language: Choices
    other_language: Choices
    complete: bool = True


def concern_choices(language: str, *, fallback: bool = False) -> ConcernChoices:
    """The form's choices in `language` (the visitor's). A process that started while
    the database is away has none: it raises, unless asked for a `fallback` so that the
    calm page can still give back what was typed (intake/outage.py). The needs then wait
    for the database; the desk's languages are the site's until then."""
    try:
        return remember(("concern-choices", language), lambda: _concern_choices(language))
    except DatabaseError:
        if not fallback:
            raise
        return _choices(language, needs=[], languages=list(settings.LANGUAGES), complete=False)


def _concern_choices(language: str) -> ConcernChoices:
    needs = list(Need.objects.with_translations())
    languages = [
        (desk_language.code, desk_language.native_name)
        for desk_language in Language.objects.order_by("native_name")
    ]
    return _choices(language, needs=needs, languages=languages)


def _choices(language: str, *, needs: list[Need], languages: list, complete: bool = True):
    return ConcernChoices(
        needs=Choices((str(need.pk), need_label(need, language)) for need in needs),
        need_by_pk={str(need.pk): need for need in needs},
        countries=Choices([("", _("Choose a country")), *((c.code, c.name) for c in countries)]),
        languages=dict(languages),
        first_language=Choices([("", _("Choose a language")), *languages]),
        other_language=Choices([("", _("None")), *languages]),
        complete=complete,
    )


def need_label(need: Need, language: str) -> str:
    translation = need.localized(language)
    if translation.description:
        return f"{translation.name} — {translation.description}"
    return translation.name


def localized_needs(language: str) -> list:
    """The needs with their names in `language`, for the start page."""
    return remember(
        ("needs", language),
        lambda: [need.localized(language) for need in Need.objects.with_translations()],
    )
