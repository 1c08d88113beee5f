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

import pyuca
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
    need_pk_by_slug: dict[str, str]
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
        need_pk_by_slug={need.slug: str(need.pk) for need in needs},
        countries=Choices(country_choices(language)),
        languages=dict(languages),
        first_language=Choices([("", _("Choose a language")), *languages]),
        other_language=Choices([("", _("None")), *languages]),
        complete=complete,
    )


# Where people who read each language most often write from: offered first, so a Persian
# speaker does not scroll to the 75th country for Iran. (The whole list follows.)
COMMON_COUNTRIES = {
    "ar": ("SY", "IQ", "YE", "SD", "EG", "LB", "PS", "JO", "LY", "SA", "MA", "DZ", "TN"),
    "fa": ("IR", "AF", "TJ"),
    "ru": ("RU", "BY", "UA", "KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "GE", "MD"),
    "tr": ("TR", "AZ"),
    "es": ("VE", "CO", "CU", "HN", "NI", "SV", "GT", "MX", "PE", "ES"),
    "fr": ("CM", "CD", "SN", "CI", "GN", "ML", "BI", "DZ", "MA", "TN", "HT", "BE"),
    "nl": ("BE", "NL", "SR"),
    "en": ("UG", "NG", "GH", "KE", "JM", "PK", "GB"),
}
COLLATOR = pyuca.Collator()


def country_choices(language: str) -> list:
    """Every country by its name in `language`, in that language's alphabetical order
    (the Unicode Collation Algorithm: Persian پ after ب, not after ي), the ones its
    readers most often write from first."""
    named = sorted(((c.code, c.name) for c in countries), key=lambda c: COLLATOR.sort_key(c[1]))
    names = dict(named)
    common = [(code, names[code]) for code in COMMON_COUNTRIES.get(language, ()) if code in names]
    choices = [("", _("Choose a country"))]
    if common:
        choices += [(_("Often chosen"), common), (_("All countries"), named)]
    else:
        choices += named
    return choices


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
