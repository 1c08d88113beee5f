"""Names in the reader's language for the codes a case keeps: its country (from
django-countries, the CLDR names), its languages (each in its own name) and its need
(the library's translation). Used by the workspace and the case lists, so a code never
reaches a page where a name belongs. The library's names are kept in memory with the
rest of the library (resources/cache.py): a page asks no query for them."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django_countries import countries

from resources.cache import remember
from resources.models import Language, Need

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """The country's name in the active language; the code itself if unknown."""
    return countries.name(code) or code


@register.filter
def need_name(need: Need) -> str:
    """The need's name in the active language, else its own."""
    language = get_language()
    names = remember(
        ("need-names", language),
        lambda: {n.pk: n.localized(language).name for n in Need.objects.with_translations()},
    )
    return names.get(need.pk, need.name)


@register.simple_tag
def language_names(codes) -> str:
    """ "العربية, English": each language in its own name, the form people know."""
    names = remember(
        ("language-names",), lambda: dict(Language.objects.values_list("code", "native_name"))
    )
    return ", ".join(names.get(code, code) for code in codes)


@register.filter
def as_context(label: str) -> str:
    """A field's label used before its error ("Which country — Please choose a
    country."): without the question mark, full stop or colon it ends with."""
    return str(label).rstrip(" ?.:;!؟؛。")


@register.filter
def at(items, index: int):
    """The item at `index` of a list: the column name a table cell gives itself
    (data-label) when its table stacks on a phone."""
    try:
        return items[index]
    except (IndexError, TypeError):
        return ""
