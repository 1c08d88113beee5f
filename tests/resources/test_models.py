from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from resources.models import Guidance, GuidanceTranslation, Need, Organisation
from tests.resources.conftest import OLDER_ENGLISH, add_guidance, add_organisation

pytestmark = pytest.mark.django_db

SITE_LANGUAGES = {"en", "nl", "fr", "ar", "fa", "ru", "es", "tr"}


def test_every_need_is_translated_into_every_site_language():
    for need in Need.objects.with_translations():
        assert {t.language_id for t in need.translations.all()} == SITE_LANGUAGES, need.slug
        assert all(t.name and t.description for t in need.translations.all())


def test_a_need_is_localized_with_english_as_the_fallback():
    need = Need.objects.with_translations().get(slug="asylum-be")
    assert need.localized("ar").name == "اللجوء في بلجيكا"
    assert need.localized("ar").language.right_to_left
    assert need.localized("sw").language_id == "en"
    assert need.localized("sw").name == "Asylum in Belgium"


def test_a_need_without_translations_still_has_its_own_name():
    need = Need.objects.create(slug="detention", name="In detention", position=9)
    localized = need.localized("fr")
    assert (localized.name, localized.language_id) == ("In detention", "en")


def test_no_need_may_take_the_friend_pages_address():
    with pytest.raises(ValidationError) as error:
        Need(slug="friend", name="Friend").full_clean()
    assert "slug" in error.value.message_dict


def test_review_by_cannot_come_before_the_last_review():
    piece = add_guidance("dublin")
    piece.reviewed_on = date(2026, 6, 1)
    piece.review_by = piece.reviewed_on - timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        piece.full_clean()
    assert "review_by" in error.value.message_dict


def test_stale_after_the_review_date():
    piece = add_guidance("dublin", review_by=date(2026, 6, 1))
    assert not piece.is_stale(date(2026, 6, 1))
    assert piece.is_stale(date(2026, 6, 2))
    assert list(Guidance.objects.stale(date(2026, 6, 2))) == [piece]
    assert list(Guidance.objects.stale(date(2026, 6, 1))) == []


def test_out_of_date_translations_are_found_per_piece_and_in_the_database():
    current = add_guidance("current", languages=("en", "nl"))
    behind = add_guidance("behind", languages=("en", "nl", "fr"))
    GuidanceTranslation.objects.filter(guidance=behind, language="fr").update(
        source_hash=OLDER_ENGLISH
    )

    assert Guidance.objects.with_translations().get(pk=behind.pk).out_of_date_languages() == ["fr"]
    assert Guidance.objects.with_translations().get(pk=current.pk).out_of_date_languages() == []
    flags = dict(Guidance.objects.annotate_out_of_date().values_list("slug", "has_out_of_date"))
    assert flags == {"current": False, "behind": True}


def test_editing_the_source_text_puts_the_other_translations_out_of_date():
    piece = add_guidance("dublin", languages=("en", "nl"))
    english = piece.translations.get(language="en")
    english.body = "The rules changed."
    english.save()
    assert Guidance.objects.with_translations().get(pk=piece.pk).out_of_date_languages() == ["nl"]

    dutch = piece.translations.get(language="nl")
    dutch.save()  # saving the translation alone does not bring it up to date
    assert Guidance.objects.with_translations().get(pk=piece.pk).out_of_date_languages() == ["nl"]
    dutch.mark_current(english)  # a coordinator confirms it says what the new text says
    dutch.save()
    assert Guidance.objects.with_translations().get(pk=piece.pk).out_of_date_languages() == []


def test_general_pieces_serve_every_need():
    add_guidance("no-needs", needs=())
    add_guidance("all-needs", needs=tuple(Need.objects.values_list("slug", flat=True)))
    add_guidance("one-need", needs=("leave",))
    assert sorted(Guidance.objects.general().values_list("slug", flat=True)) == [
        "all-needs",
        "no-needs",
    ]


def test_edits_keep_a_history():
    piece = add_guidance("dublin")
    piece.position = 5
    piece.save()
    english = piece.translations.get()
    english.title = "New title"
    english.save()

    assert [h.position for h in piece.history.all()] == [5, 10]
    assert [h.title for h in english.history.all()] == ["New title", "dublin in en"]
    assert english.history.last().history_change_reason == "Loaded from resources/content"


def test_an_organisation_shows_where_its_website_leads():
    organisation = add_organisation("front-line", website="https://www.frontlinedefenders.org/en")
    assert organisation.website_host == "frontlinedefenders.org"
    assert Organisation(website="").website_host == ""
