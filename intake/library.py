"""What the public pages show every visitor alike: the concern form's choices and its
unfilled fields, the needs on the start page, the guidance matched to a receipt. They
come from the library (resources) and from django-countries, so they change only when a
coordinator edits the library or with a deploy. They are kept in this process's memory
by resources/cache.py (which says how they stay fresh, and how they are served while
the database is down), so such a page needs no query and no template loop over hundreds
of options.

Nothing a visitor typed and no per-request token (CSRF, submission key) is kept here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext as _
from django_countries import countries

from resources import cache as library_cache
from resources.models import Language, Need

# The intake's pages call these through this module.
remember = library_cache.remember
clear = library_cache.clear
connect = library_cache.connect


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
