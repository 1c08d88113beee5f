"""Which guidance, organisations and referral templates fit a person's situation.

`match()` is the one entry point: need, languages in order of preference, country and
audience in; the fitting items out, best first, each saying which language it is shown
in and whether that is a fallback. It reads the library in a fixed number of queries
and writes nothing. `match_for_volunteer()` gives the same guidance and templates for
the case workspace from the need's library kept in memory (resources/cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from resources import cache
from resources.models import (
    Audience,
    Guidance,
    GuidanceTranslation,
    Language,
    Organisation,
    OrganisationTranslation,
    ReferralTemplate,
    country_fit,
    pick_translation,
)
from resources.rendering import render_markdown

# What each audience may read, in the order it is shown. Volunteers see everything;
# a piece written for volunteers never reaches the person or their friend.
AUDIENCES: dict[str, tuple[str, ...]] = {
    Audience.PERSON: (Audience.PERSON,),
    Audience.FRIEND: (Audience.FRIEND, Audience.PERSON),
    Audience.VOLUNTEER: (Audience.VOLUNTEER, Audience.PERSON, Audience.FRIEND),
}


@dataclass(frozen=True)
class GuidanceMatch:
    guidance: Guidance
    translation: GuidanceTranslation
    language: str
    fallback: bool
    stale: bool
    out_of_date: bool

    @cached_property
    def html(self) -> SafeString:
        return render_markdown(self.translation.body)

    @property
    def direction(self) -> str:
        return self.translation.language.direction


@dataclass(frozen=True)
class OrganisationMatch:
    organisation: Organisation
    translation: OrganisationTranslation | None
    language: str
    fallback: bool

    @property
    def direction(self) -> str:
        return self.translation.language.direction if self.translation else "ltr"


@dataclass(frozen=True)
class TemplateMatch:
    template: ReferralTemplate
    language: str
    fallback: bool
    # Whether the template's organisation serves the person (the volunteers' view marks
    # those that do not): their country, and one of their languages (None: unknown).
    covers_country: bool = True
    works_in_their_language: bool | None = None


@dataclass(frozen=True)
class Matches:
    guidance: list[GuidanceMatch]
    organisations: list[OrganisationMatch]
    referral_templates: list[TemplateMatch]


def match(
    *,
    need: str,
    languages: Sequence[str],
    country: str | None,
    audience: str,
    today: date | None = None,
    in_danger: bool = True,
) -> Matches:
    """Guidance, organisations and referral templates for a need, best first.

    Language: the first of `languages` a piece exists in; else its source language
    (organisations and templates: English), marked as a fallback. Country: items with
    no countries apply everywhere, the others only in theirs, and come first there;
    with no country (unknown), nothing is hidden, but the items for everywhere come
    first. Stale pieces are returned, marked. Emergencies come first unless a helper
    said nobody is in danger (`in_danger=False` for the friend's audience): then what is
    written for the helper leads."""
    if audience not in AUDIENCES:
        raise ValueError(f"Unknown audience {audience!r}.")
    today = today or timezone.localdate()
    languages = [code for code in languages if code]
    organisations = match_organisations(need, languages, country)
    return Matches(
        guidance=match_guidance(need, languages, country, audience, today, in_danger),
        organisations=organisations,
        referral_templates=match_templates(need, languages, organisations),
    )


def match_guidance(
    need: str,
    languages: list[str],
    country: str | None,
    audience: str,
    today: date,
    in_danger: bool = True,
) -> list[GuidanceMatch]:
    shown = AUDIENCES[audience]
    pieces = Guidance.objects.for_need(need).for_audiences(shown).with_translations()
    emergencies_first = in_danger or audience != Audience.FRIEND
    return best_first(
        localize(pieces, languages=languages, country=country, today=today),
        shown,
        country,
        emergencies_first=emergencies_first,
    )


def best_first(
    matches: list[GuidanceMatch],
    shown: tuple[str, ...],
    country: str | None,
    *,
    emergencies_first: bool = True,
) -> list[GuidanceMatch]:
    matches.sort(
        key=lambda m: (
            emergencies_first and not m.guidance.emergency,
            shown.index(m.guidance.audience),
            country_fit(m.guidance.countries, country),
            m.guidance.position,
            m.guidance.slug,
        )
    )
    return matches


def localize(
    pieces: Iterable[Guidance], *, languages: Sequence[str], country: str | None, today: date
) -> list[GuidanceMatch]:
    """The pieces that apply in `country`, each in the best language it exists in.

    `pieces` should come `with_translations()`; their order is kept."""
    matches = []
    for piece in pieces:
        if country_fit(piece.countries, country) is None:
            continue
        translation, fallback = pick_translation(
            piece.translations.all(), languages, piece.source_language_id
        )
        if translation is None:
            continue
        matches.append(
            GuidanceMatch(
                guidance=piece,
                translation=translation,
                language=translation.language_id,
                fallback=fallback,
                stale=piece.is_stale(today),
                out_of_date=translation.is_out_of_date(piece.source_translation()),
            )
        )
    return matches


def match_organisations(
    need: str, languages: list[str], country: str | None
) -> list[OrganisationMatch]:
    organisations = Organisation.objects.filter(needs__slug=need).prefetch_related(
        Prefetch(
            "translations", queryset=OrganisationTranslation.objects.select_related("language")
        ),
        Prefetch("languages", queryset=Language.objects.order_by("name")),
    )
    matches = []
    for organisation in organisations:
        if country_fit(organisation.countries, country) is None:
            continue
        translation, fallback = pick_translation(
            organisation.translations.all(), languages, settings.LANGUAGE_CODE
        )
        matches.append(
            OrganisationMatch(
                organisation=organisation,
                translation=translation,
                language=translation.language_id if translation else settings.LANGUAGE_CODE,
                fallback=fallback,
            )
        )
    matches.sort(
        key=lambda m: (
            country_fit(m.organisation.countries, country),
            m.organisation.name.lower(),
        )
    )
    return matches


def match_templates(
    need: str, languages: list[str], organisations: list[OrganisationMatch]
) -> list[TemplateMatch]:
    """Per organisation that matched, its templates for the need in the best language."""
    templates = ReferralTemplate.objects.for_need(need).select_related(
        "organisation", "need", "language"
    )
    return templates_in_order(templates, [m.organisation.pk for m in organisations], languages)


def templates_in_order(
    templates: Iterable[ReferralTemplate], organisations: list[int], languages: list[str]
) -> list[TemplateMatch]:
    """The templates of these organisations (pks, best first), per organisation in the
    best language it has templates in."""
    position = {pk: index for index, pk in enumerate(organisations)}
    by_organisation: dict[int, list[ReferralTemplate]] = {}
    for template in templates:
        # Filtered here rather than in SQL, so the query count never depends on the data.
        if template.organisation_id in position:
            by_organisation.setdefault(template.organisation_id, []).append(template)
    matches = []
    for organisation_id in sorted(by_organisation, key=position.__getitem__):
        templates = by_organisation[organisation_id]
        best, fallback = pick_translation(templates, languages, settings.LANGUAGE_CODE)
        matches.extend(
            TemplateMatch(template=template, language=template.language_id, fallback=fallback)
            for template in sorted(templates, key=lambda t: t.slug)
            if template.language_id == best.language_id
        )
    return matches


@dataclass(frozen=True)
class VolunteerMatches:
    guidance: list[GuidanceMatch]
    referral_templates: list[TemplateMatch]


@dataclass(frozen=True)
class NeedLibrary:
    """What the library holds for one need, as a volunteer reads it."""

    guidance: list[Guidance]
    templates: list[ReferralTemplate]
    organisations: frozenset[int]  # the organisations that help with the need


def match_for_volunteer(
    *, need: str, languages: Sequence[str], country: str | None, today: date | None = None
) -> VolunteerMatches:
    """match()'s guidance and referral templates for the volunteers' audience, without
    the organisations (the case workspace shows none but a template's). The need's
    library is kept in this process's memory (resources/cache.py): once warm, no query.
    The organisations' order comes from the templates' own organisation, as in match();
    unlike the person, the volunteer also sees the templates of organisations that do
    not cover the person's country, last and marked (TemplateMatch.covers_country): they
    may know of a way the directory does not."""
    today = today or timezone.localdate()
    languages = [code for code in languages if code]
    library = cache.remember(("volunteer-library", need), lambda: need_library(need))
    shown = AUDIENCES[Audience.VOLUNTEER]
    guidance = best_first(
        localize(library.guidance, languages=languages, country=country, today=today),
        shown,
        country,
    )
    organisations = {
        template.organisation
        for template in library.templates
        if template.organisation_id in library.organisations
    }
    not_covered = 3  # after every country_fit()
    in_order = sorted(
        organisations,
        key=lambda o: (
            fit if (fit := country_fit(o.countries, country)) is not None else not_covered,
            o.name.lower(),
        ),
    )
    templates = templates_in_order(library.templates, [o.pk for o in in_order], languages)
    return VolunteerMatches(
        guidance=guidance,
        referral_templates=[
            replace(
                item,
                covers_country=item.template.organisation.covers(country),
                works_in_their_language=item.template.organisation.works_in_any(languages),
            )
            for item in templates
        ],
    )


def need_library(need: str) -> NeedLibrary:
    shown = AUDIENCES[Audience.VOLUNTEER]
    return NeedLibrary(
        guidance=list(Guidance.objects.for_need(need).for_audiences(shown).with_translations()),
        templates=list(
            ReferralTemplate.objects.for_need(need)
            .select_related("organisation", "need", "language")
            .prefetch_related("organisation__languages")
        ),
        organisations=frozenset(
            Organisation.objects.filter(needs__slug=need).values_list("pk", flat=True)
        ),
    )
