"""The real content in resources/content/ loads, and is complete where it must be."""

import tomllib
from datetime import date

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


def test_every_piece_and_organisation_has_sources_an_owner_and_a_review_date(loaded):
    for piece in Guidance.objects.prefetch_related("sources"):
        assert piece.sources.exists(), f"{piece.slug} has no sources"
        assert piece.owner_label(), piece.slug
        assert piece.review_by > date(2026, 12, 6), piece.slug
        assert piece.reviewed_on is None, f"{piece.slug}: a review is recorded, not written"
        for source in piece.sources.all():
            source.full_clean()
            assert source.supports.strip(), (piece.slug, source.url)
    for organisation in Organisation.objects.prefetch_related("sources"):
        assert organisation.sources.exists(), f"{organisation.slug} has no sources"


def test_pieces_that_state_the_law_wait_for_a_legal_review(loaded):
    legal = Guidance.objects.filter(legal=True).prefetch_related("reviews", "translations")
    assert {"asylum-be-after-rejection", "asylum-be-dublin"} <= {p.slug for p in legal}
    for piece in legal:
        assert piece.needs_legal_review(), piece.slug


def test_a_fresh_load_keeps_what_each_translation_was_made_from(loaded):
    for path in sorted((CONTENT_DIR / "guidance").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        piece = Guidance.objects.with_translations().get(slug=data["slug"])
        stored = {t.language_id: t.source_hash for t in piece.translations.all()}
        for code, text in data["translations"].items():
            if code != data.get("source_language", "en"):
                assert stored[code] == text["source_hash"], (piece.slug, code)
                assert stored[code] == piece.source_version(), (piece.slug, code)


def test_editing_the_english_of_any_piece_puts_every_translation_out_of_date(loaded):
    for piece in Guidance.objects.with_translations():
        english = piece.source_translation()
        english.body += "\n\nOne more sentence."
        english.save()
        piece = Guidance.objects.with_translations().get(pk=piece.pk)
        others = sorted(t.language_id for t in piece.translations.all() if t != english)
        assert others, piece.slug
        assert piece.out_of_date_languages() == others, piece.slug
    for organisation in Organisation.objects.prefetch_related("translations"):
        english = organisation.source_translation()
        english.offers += " More."
        english.save()
        organisation = Organisation.objects.prefetch_related("translations").get(pk=organisation.pk)
        others = sorted(t.language_id for t in organisation.translations.all() if t != english)
        assert organisation.out_of_date_languages() == others, organisation.slug


# Things the original guide said that were wrong; they must not come back in any language
# of what people and their helpers read, nor in what goes to organisations. (The
# volunteers' briefings name them, to warn.)
CORRECTED = [
    "Code 207",
    "Refugee Information Hotline",
    "Dublin III Regulation applies",
]


def test_corrected_mistakes_of_the_original_guide_stay_corrected():
    for folder in ("guidance", "organisations", "templates"):
        for path in sorted((CONTENT_DIR / folder).glob("*.toml")):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            if data.get("audience") == "volunteer":
                continue
            text = path.read_text(encoding="utf-8")
            for mistake in CORRECTED:
                assert mistake not in text, (path.name, mistake)


def test_no_real_organisation_is_said_to_take_referrals_through_haven(loaded):
    """Only an organisation's own agreement could make it a partner, and no source says
    any has agreed: the real ones are referred to the way they ask, by the volunteer."""
    assert not Organisation.objects.filter(takes_referrals=True).exists()
    assert not Organisation.objects.exclude(referral_address="").exists()


def test_no_template_claims_consent_before_it_is_recorded(loaded):
    values = dict.fromkeys(placeholders.PLACEHOLDERS, "x")
    for template in ReferralTemplate.objects.all():
        assert template.consent, template.slug
        claim = template.consent_claim(values)
        assert claim not in template.render(values, consented=False).body, template.slug
        assert claim in template.render(values, consented=True).body, template.slug
