"""The real content in resources/content/ loads, and is complete where it must be."""

import pytest

from resources import placeholders
from resources.loader import CONTENT_DIR, load_resources
from resources.matching import match
from resources.models import Audience, Guidance, Need, Organisation, ReferralTemplate

pytestmark = pytest.mark.django_db

PUBLIC_LANGUAGES = {"en", "nl", "fr", "ar"}
STAFF_LANGUAGES = {"en", "nl", "fr"}


@pytest.fixture
def loaded():
    report = load_resources(directory=CONTENT_DIR)
    assert report.guidance.created == len(list((CONTENT_DIR / "guidance").glob("*.toml")))
    return report


def test_every_piece_is_in_the_languages_its_readers_need(loaded):
    for piece in Guidance.objects.with_translations():
        languages = {t.language_id for t in piece.translations.all()}
        required = STAFF_LANGUAGES if piece.audience == Audience.VOLUNTEER else PUBLIC_LANGUAGES
        assert required <= languages, f"{piece.slug} lacks {sorted(required - languages)}"
        assert piece.out_of_date_languages() == [], piece.slug
        assert not piece.is_stale(), piece.slug


def test_every_need_has_guidance_for_the_person_and_a_friend_in_every_public_language(loaded):
    for need in Need.objects.all():
        for audience in (Audience.PERSON, Audience.FRIEND):
            for language in PUBLIC_LANGUAGES:
                found = match(need=need.slug, languages=[language], country=None, audience=audience)
                assert found.guidance, (need.slug, audience, language)
                assert not any(m.fallback for m in found.guidance), (need.slug, audience, language)


def test_organisations_and_templates_are_there_and_valid(loaded):
    assert Organisation.objects.exists()
    for need in ("stay-safe", "leave", "asylum-be"):
        assert Organisation.objects.filter(needs__slug=need).exists(), need
    for organisation in Organisation.objects.prefetch_related("translations"):
        languages = {t.language_id for t in organisation.translations.all()}
        assert "en" in languages, organisation.slug
        assert organisation.website.startswith("https://"), organisation.slug
    assert ReferralTemplate.objects.exists()
    for template in ReferralTemplate.objects.all():
        template.full_clean()
        assert template.language_id in STAFF_LANGUAGES | PUBLIC_LANGUAGES
        assert placeholders.used(template.body), template.slug
    languages = set(ReferralTemplate.objects.values_list("language", flat=True))
    assert languages >= STAFF_LANGUAGES


def test_loading_the_real_content_twice_changes_nothing(loaded):
    again = load_resources(directory=CONTENT_DIR)
    assert again.guidance.created == again.guidance_translations.created == 0
    assert again.organisations.created == again.referral_templates.created == 0
