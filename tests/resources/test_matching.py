"""match(): need, languages, country and audience in; what fits out, best first. Plain
function, no HTTP."""

from datetime import date, timedelta

import pytest

from resources import cache
from resources.matching import match, match_for_volunteer
from resources.models import GuidanceTranslation
from tests.resources.conftest import (
    OLDER_ENGLISH,
    TODAY,
    add_guidance,
    add_organisation,
    add_template,
)

pytestmark = pytest.mark.django_db


def find(need="asylum-be", languages=("en",), country=None, audience="person", today=TODAY):
    return match(
        need=need, languages=list(languages), country=country, audience=audience, today=today
    )


def slugs(result) -> list[str]:
    return [m.guidance.slug for m in result.guidance]


def test_the_first_of_the_persons_languages_that_exists_wins():
    add_guidance("dublin", languages=("en", "nl", "ar"))

    (item,) = find(languages=["fa", "ar", "nl"]).guidance

    assert item.language == "ar"
    assert item.translation.title == "dublin in ar"
    assert not item.fallback
    assert item.direction == "rtl"


def test_without_any_of_their_languages_the_source_language_is_a_visible_fallback():
    add_guidance("dublin", languages=("en", "nl"))
    add_guidance("bewijs", languages=("fr", "nl"), source_language="nl")

    items = {m.guidance.slug: m for m in find(languages=["fa", "tr"]).guidance}

    assert (items["dublin"].language, items["dublin"].fallback) == ("en", True)
    assert (items["bewijs"].language, items["bewijs"].fallback) == ("nl", True)
    assert items["bewijs"].direction == "ltr"


def test_no_languages_at_all_still_finds_the_source_text():
    add_guidance("dublin", languages=("en", "nl"))
    (item,) = find(languages=[]).guidance
    assert (item.language, item.fallback) == ("en", True)


def test_only_pieces_for_the_need_and_those_for_every_need():
    add_guidance("dublin", needs=("asylum-be",))
    add_guidance("hotline", needs=("stay-safe",))
    add_guidance("both", needs=("stay-safe", "asylum-be"))
    add_guidance("anyone", needs=())

    assert sorted(slugs(find(need="asylum-be"))) == ["anyone", "both", "dublin"]
    assert slugs(find(need="no-such-need")) == ["anyone"]


def test_country_specific_pieces_only_in_their_countries_and_first():
    add_guidance("everywhere", position=1)
    add_guidance("uganda", countries=["UG"], position=50)
    add_guidance("iran-or-iraq", countries=["IR", "IQ"], position=60)

    assert slugs(find(country="UG")) == ["uganda", "everywhere"]
    assert slugs(find(country="iq")) == ["iran-or-iraq", "everywhere"]
    assert slugs(find(country="BE")) == ["everywhere"]


def test_an_unknown_country_hides_nothing_but_puts_what_applies_everywhere_first():
    add_guidance("uganda", countries=["UG"], position=1)
    add_guidance("everywhere", position=50)

    assert slugs(find(country=None)) == ["everywhere", "uganda"]


def test_emergency_pieces_come_first_then_position():
    add_guidance("later", position=30)
    add_guidance("sooner", position=20)
    add_guidance("urgent", position=90, emergency=True)

    assert slugs(find()) == ["urgent", "sooner", "later"]


def test_volunteer_pieces_never_reach_the_person_or_their_friend():
    add_guidance("for-person", audience="person", position=1)
    add_guidance("for-friend", audience="friend", position=2)
    add_guidance("for-volunteer", audience="volunteer", position=3)

    assert slugs(find(audience="person")) == ["for-person"]
    assert slugs(find(audience="friend")) == ["for-friend", "for-person"]
    assert slugs(find(audience="volunteer")) == ["for-volunteer", "for-person", "for-friend"]


def test_an_unknown_audience_is_an_error():
    with pytest.raises(ValueError, match="audience"):
        find(audience="everyone")


def test_stale_pieces_are_still_returned_but_marked():
    add_guidance("old", review_by=TODAY - timedelta(days=1))
    add_guidance("due-today", review_by=TODAY)

    items = {m.guidance.slug: m for m in find().guidance}

    assert items["old"].stale
    assert not items["due-today"].stale
    assert find(today=TODAY + timedelta(days=1)).guidance[0].stale


def test_a_translation_older_than_the_source_text_is_flagged_out_of_date():
    piece = add_guidance("dublin", languages=("en", "nl", "fr"))
    GuidanceTranslation.objects.filter(guidance=piece, language="nl").update(
        source_hash=OLDER_ENGLISH
    )

    nl = find(languages=["nl"]).guidance[0]
    fr = find(languages=["fr"]).guidance[0]
    en = find(languages=["en"]).guidance[0]

    assert (nl.language, nl.out_of_date) == ("nl", True)
    assert (fr.language, fr.out_of_date) == ("fr", False)
    assert (en.language, en.out_of_date) == ("en", False)


def test_a_piece_without_any_translation_is_left_out():
    piece = add_guidance("empty")
    piece.translations.all().delete()
    assert find().guidance == []


def test_organisations_for_the_need_and_country_in_the_best_language():
    add_organisation("everywhere-org", languages=("en", "fr"))
    add_organisation("belgian-org", languages=("nl", "fr"), countries=["BE"])
    add_organisation("other-need-org", needs=["stay-safe"])
    add_organisation("arabic-only", languages=("ar",))

    result = find(languages=["ar", "fr"], country="BE")

    found = [(m.organisation.slug, m.language, m.fallback) for m in result.organisations]
    assert found == [
        ("belgian-org", "fr", False),
        ("arabic-only", "ar", False),
        ("everywhere-org", "fr", False),
    ]
    assert [m.organisation.slug for m in find(languages=["tr"], country="UG").organisations] == [
        "arabic-only",
        "everywhere-org",
    ]
    assert [m.organisation.slug for m in find(languages=["tr"]).organisations] == [
        "arabic-only",
        "everywhere-org",
        "belgian-org",
    ]
    everywhere = find(languages=["tr"]).organisations[1]
    assert (everywhere.language, everywhere.fallback) == ("en", True)
    assert everywhere.translation.offers == "everywhere-org offers help (en)"


def test_referral_templates_in_the_best_language_for_matched_organisations_only():
    add_organisation("vluchtelingenwerk", countries=["BE"])
    add_organisation("oram")
    for code in ("en", "nl", "fr"):
        add_template(f"vw-{code}", "vluchtelingenwerk", language=code)
    add_template("oram-en", "oram")
    add_template("oram-stay-en", "oram", need="stay-safe")

    in_belgium = find(languages=["ar", "fr"], country="BE").referral_templates
    elsewhere = find(languages=["ar", "fr"], country="UG").referral_templates

    assert [(m.template.slug, m.fallback) for m in in_belgium] == [
        ("vw-fr", False),
        ("oram-en", True),
    ]
    assert [m.template.slug for m in elsewhere] == ["oram-en"]


def test_the_number_of_queries_does_not_grow_with_the_library(django_assert_num_queries):
    # Seven queries (guidance brings its sources along), however large the library.
    def library(size: int) -> None:
        for number in range(size):
            add_guidance(f"piece-{size}-{number}", languages=("en", "nl", "ar"))
            add_organisation(f"org-{size}-{number}", languages=("en", "fr"))
            add_template(f"template-{size}-{number}-en", f"org-{size}-{number}")

    library(1)
    with django_assert_num_queries(7):
        small = find(languages=["ar"])
    library(4)
    with django_assert_num_queries(7):
        large = find(languages=["ar"])
    assert (len(small.guidance), len(large.guidance)) == (1, 5)
    assert len(large.referral_templates) == 5


def test_matches_are_frozen():
    add_guidance("dublin")
    result = find()
    with pytest.raises(AttributeError):
        result.guidance = []
    with pytest.raises(AttributeError):
        result.guidance[0].fallback = False


def test_today_defaults_to_the_local_date():
    add_guidance("old", review_by=date(2000, 1, 1))
    assert (
        match(need="asylum-be", languages=["en"], country=None, audience="person").guidance[0].stale
    )


@pytest.fixture
def fresh_memory():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("languages", "country"),
    [(["ar", "fr"], "BE"), (["tr"], "UG"), (["nl"], None), ([], "IR")],
)
def test_match_for_volunteer_gives_what_match_gives_the_volunteers(
    fresh_memory, languages, country
):
    add_guidance("for-person", audience="person", languages=("en", "ar"), position=1)
    add_guidance("for-friend", audience="friend", languages=("en", "fr"), position=2)
    add_guidance("briefing", audience="volunteer", position=3, countries=["UG"])
    add_guidance("urgent", position=90, emergency=True, needs=())
    add_guidance("other-need", needs=("stay-safe",))
    add_organisation("vluchtelingenwerk", countries=["BE"])
    add_organisation("oram")
    add_organisation("iran-only", countries=["IR"])
    add_organisation("not-for-the-need", needs=["stay-safe"])
    for code in ("en", "nl", "fr"):
        add_template(f"vw-{code}", "vluchtelingenwerk", language=code)
    add_template("oram-en", "oram")
    add_template("oram-stay-en", "oram", need="stay-safe")
    add_template("iran-en", "iran-only")
    add_template("other-need-en", "not-for-the-need")

    full = find(languages=languages, country=country, audience="volunteer")
    slim = match_for_volunteer(need="asylum-be", languages=languages, country=country, today=TODAY)

    def guidance(result):
        return [(m.guidance.slug, m.language, m.fallback, m.stale) for m in result.guidance]

    def templates(result, *, covered=True):
        return [
            (m.template.slug, m.language, m.fallback)
            for m in result.referral_templates
            if m.covers_country == covered
        ]

    assert guidance(slim) == guidance(full)
    assert templates(slim) == templates(full)
    # The volunteer also sees, last and marked, the organisations that do not cover the
    # person's country (the person never does).
    assert [m.covers_country for m in slim.referral_templates] == sorted(
        [m.covers_country for m in slim.referral_templates], reverse=True
    )
    elsewhere = [slug for slug, *_ in templates(slim, covered=False)]
    assert elsewhere == {"BE": ["iran-en"], "UG": ["iran-en", "vw-en"], "IR": ["vw-en"]}.get(
        country, []
    )
    assert "other-need-en" not in [m.template.slug for m in slim.referral_templates]


def test_match_for_volunteer_reads_the_library_once_and_sees_its_changes(
    fresh_memory, django_assert_num_queries
):
    piece = add_guidance("briefing", audience="volunteer")
    add_organisation("oram")
    add_template("oram-en", "oram")

    def titles() -> list[str]:
        result = match_for_volunteer(need="asylum-be", languages=["en"], country="UG")
        return [m.translation.title for m in result.guidance]

    assert titles() == ["briefing in en"]
    # Warm: not even the library's version is asked for again (resources/cache.py).
    with django_assert_num_queries(0):
        assert titles() == ["briefing in en"]
    translation = piece.translations.get(language="en")
    translation.title = "Before you answer"
    translation.save()
    assert titles() == ["Before you answer"]
