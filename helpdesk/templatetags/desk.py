"""Names in the reader's language for the codes a case keeps: its country (from
django-countries, the CLDR names), its languages (each in its own name) and its need
(the library's translation). Used by the workspace and the case lists, so a code never
reaches a page where a name belongs. The library's names are kept in memory with the
rest of the library (resources/cache.py): a page asks no query for them."""

from __future__ import annotations

import re
from functools import lru_cache

from django import template
from django.template.defaultfilters import timesince_filter
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
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


# The words every row of a case list repeats, by language: translated once per process,
# as Django keeps its catalogues once per process.
ROW_WORDS = {
    "case": _("Case"),
    "urgency": _("Urgency"),
    "need": _("Need"),
    "status": _("Status"),
    "languages": _("Languages"),
    "waiting": _("Waiting"),
    "waiting_on": _("Waiting on"),
    "last": _("Last message"),
    "volunteer": _("Volunteer"),
    "urgent": _("Urgent"),
    "normal": _("Normal"),
    "escalated": _("Escalated"),
    "duress": _("May be under duress"),
    "the_person": _("the person"),
    "us": _("us"),
    "pool": _("pool"),
    "take": _("Take this case"),
}
# What a reference may hold to be put into a link as it is (Django's quoting leaves these).
PLAIN_REFERENCE = re.compile(r"[0-9A-Za-z]+")


@lru_cache(maxsize=32)
def row_words(language: str) -> dict[str, str]:
    """ROW_WORDS in `language`. As {% translate %} gives them: translations are the
    project's own text, not escaped."""
    with translation.override(language):
        return {key: str(text) for key, text in ROW_WORDS.items()}


def _since(value, now) -> str:
    return escape(timesince_filter(value, now))


@register.simple_tag(takes_context=True)
def case_rows(context, cases, now, *, show_status=False, show_volunteer=False, claim=False):
    """The <tr> of each case in a case list (helpdesk/partials/case_table.html): the same
    markup the table's cells would give as template tags, built without one template
    node per cell, which cost more than the rest of the page together. Every value is
    escaped as the template escaped it (the translated words are not, as there)."""
    words = row_words(get_language())
    link_head, link_tail = reverse("case", args=["REFERENCE"]).split("REFERENCE")
    claim_head, claim_tail = reverse("case_claim", args=["REFERENCE"]).split("REFERENCE")
    token = context.get("csrf_token")
    csrf = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
        if claim and token and token != "NOTPROVIDED"  # noqa: S105 - Django's "no token"
        else ""
    )
    rows = []
    for case in cases:
        reference = case.reference
        if PLAIN_REFERENCE.fullmatch(reference):
            link = escape(f"{link_head}{reference}{link_tail}")
            claim_link = escape(f"{claim_head}{reference}{claim_tail}")
        else:
            link = escape(reverse("case", args=[reference]))
            claim_link = escape(reverse("case_claim", args=[reference]))
        if case.urgent:
            urgency = f'<span class="tag tag--urgent">{words["urgent"]}</span>'
        else:
            urgency = words["normal"]
        if case.escalated_at:
            urgency += f' <span class="tag">{words["escalated"]}</span>'
        if case.duress_at:
            urgency += f' <span class="tag tag--urgent">{words["duress"]}</span>'
        status = (
            f'<td data-label="{words["status"]}">{escape(case.get_status_display())}</td>'
            if show_status
            else ""
        )
        waiting_on = words["the_person"] if case.last_message_author == "staff" else words["us"]
        last = _since(case.last_message_at, now) if case.last_message_at else "—"
        volunteer = (
            f'<td data-label="{words["volunteer"]}">'
            f"{escape(case.volunteer) if case.volunteer else words['pool']}</td>"
            if show_volunteer
            else ""
        )
        action = (
            f'<td><form method="post" action="{claim_link}">{csrf}<button type="submit" '
            f'class="button button--small">{words["take"]}</button></form></td>'
            if claim
            else ""
        )
        rows.append(
            "\n      <tr>\n"
            f'        <th scope="row" data-label="{words["case"]}"><a href="{link}">'
            f"{escape(reference)}</a></th>\n"
            f'        <td data-label="{words["urgency"]}">{urgency}</td>\n'
            f'        <td data-label="{words["need"]}">{escape(need_name(case.need))}</td>\n'
            f"        {status}\n"
            f'        <td data-label="{words["languages"]}">'
            f"{', '.join(escape(code) for code in case.languages)}</td>\n"
            f'        <td data-label="{words["waiting"]}">{_since(case.created_at, now)}</td>\n'
            f'        <td data-label="{words["waiting_on"]}">{waiting_on}</td>\n'
            f'        <td data-label="{words["last"]}">{last}</td>\n'
            f"        {volunteer}\n"
            f"        {action}\n"
            "      </tr>\n    "
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped


@register.simple_tag(takes_context=True)
def staff_links(context) -> str:
    """The staff navigation's list of links (partials/staff_links.html): the same for
    everyone of a role in a language, so rendered once per process for each (its eleven
    links and twelve translations were most of the staff base template's time)."""
    coordinator = bool(context["user"].is_coordinator)
    return _staff_links(get_language(), coordinator, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=64)
def _staff_links(language: str, coordinator: bool, prefix: str, urlconf) -> str:
    with translation.override(language):
        return render_to_string("partials/staff_links.html", {"coordinator": coordinator})
