"""The public self-help guide: readable by anyone, without JavaScript, without giving
anything away. Shown in the visitor's language, with any fallback made visible."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from resources.matching import GuidanceMatch, localize, match
from resources.models import Audience, Guidance, GuidanceQuerySet, Need


def guide(request: HttpRequest) -> HttpResponse:
    language = request.LANGUAGE_CODE
    # Someone in danger right now should not have to choose a situation first.
    urgent = general_guidance(Audience.PERSON).filter(emergency=True)
    return render(
        request,
        "resources/guide.html",
        {"needs": localized_needs(language), "urgent": in_language(urgent, language)},
    )


def need(request: HttpRequest, need: str, audience: str) -> HttpResponse:
    language = request.LANGUAGE_CODE
    chosen = get_object_or_404(Need.objects.with_translations(), slug=need)
    # The public guide asks nothing, so it knows no country: nothing is hidden, and
    # what applies everywhere comes first (the cards say where the others work).
    matches = match(need=chosen.slug, languages=[language], country=None, audience=audience)

    # A friend's page has two parts: how to help, then what the person themself may
    # want to read (those texts speak to them, so they are introduced as such).
    # Emergencies stay at the top whoever they are written for.
    def comes_first(item: GuidanceMatch) -> bool:
        return item.guidance.emergency or item.guidance.audience == Audience.FRIEND

    return render(
        request,
        "resources/need.html",
        {
            "need": chosen.localized(language),
            "for_friend": audience == Audience.FRIEND,
            "first_part": [m for m in matches.guidance if comes_first(m)],
            "second_part": [m for m in matches.guidance if not comes_first(m)],
            "organisations": matches.organisations,
        },
    )


def friend(request: HttpRequest) -> HttpResponse:
    language = request.LANGUAGE_CODE
    principles = in_language(general_guidance(Audience.FRIEND), language)
    return render(
        request,
        "resources/friend.html",
        {"principles": principles, "needs": localized_needs(language)},
    )


def localized_needs(language: str) -> list:
    return [need.localized(language) for need in Need.objects.with_translations()]


def general_guidance(audience: str) -> GuidanceQuerySet:
    """Pieces for every need, written for that audience, emergencies first."""
    return (
        Guidance.objects.general()
        .for_audiences([audience])
        .with_translations()
        .order_by("-emergency", "position", "slug")
    )


def in_language(pieces: GuidanceQuerySet, language: str) -> list[GuidanceMatch]:
    return localize(pieces, languages=[language], country=None, today=timezone.localdate())
