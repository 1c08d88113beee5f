"""The public self-help pages: open to anyone, in the visitor's language, with any
fallback to another language visible and marked up with that language."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from resources.models import Guidance, GuidanceTranslation, Need
from tests.resources.conftest import OLDER_ENGLISH, add_guidance, add_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    add_guidance(
        "dublin",
        languages=("en", "nl", "ar"),
        translations={
            "en": {
                "title": "Which country decides",
                "summary": "The Dublin rules.",
                "body": "Read **this**.",
            },
            "nl": {"title": "Welk land beslist", "summary": "", "body": "Lees **dit**."},
            "ar": {"title": "أي بلد يقرر", "summary": "", "body": "اقرأ **هذا**."},
        },
    )
    add_guidance(
        "evidence",
        position=30,
        translations={"en": {"title": "Gather evidence early", "body": "Start now."}},
    )
    add_guidance(
        "friend-listen",
        audience="friend",
        needs=(),
        position=1,
        translations={"en": {"title": "Listen first", "body": "They know best."}},
    )
    add_guidance(
        "volunteer-notes",
        audience="volunteer",
        translations={"en": {"title": "Internal checklist", "body": "Staff only."}},
    )
    add_guidance(
        "urgent-line",
        emergency=True,
        position=90,
        translations={"en": {"title": "In danger right now", "body": "Call."}},
    )
    add_organisation(
        "vluchtelingenwerk",
        languages=("en", "nl"),
        website="https://www.vluchtelingenwerk.be",
        translations={
            "en": {"offers": "Legal advice on asylum."},
            "nl": {"offers": "Juridisch advies over asiel."},
        },
    )


def get(client, name, *args, language="en"):
    return client.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE=language)


def test_the_guide_lets_you_choose_for_yourself_or_for_someone(client, library):
    response = get(client, "resources:guide")
    page = response.content.decode()

    assert response.status_code == 200
    assert "I need help for myself" in page
    assert "I want to help someone I know" in page
    assert reverse("resources:need", args=["asylum-be"]) in page
    assert reverse("resources:need_friend", args=["asylum-be"]) in page
    assert reverse("resources:friend") in page
    assert "Staying safe without leaving" in page


def test_the_guide_starts_with_what_to_do_in_danger(client, library):
    add_guidance(
        "danger-now",
        needs=(),
        emergency=True,
        translations={"en": {"title": "If you are in danger now", "body": "Get **safe**."}},
    )
    page = get(client, "resources:guide").content.decode()
    assert page.index("If you are in danger now") < page.index("I need help for myself")
    assert "<details" in page and "Get <strong>safe</strong>." in page
    assert "In danger right now" not in page  # an emergency for one need only


def test_the_guide_is_in_the_visitors_language(client, library):
    page = get(client, "resources:guide", language="ar").content.decode()
    assert 'lang="ar" dir="rtl"' in page
    assert "اللجوء في بلجيكا" in page


def test_a_need_page_shows_guidance_and_organisations_for_the_person(client, library):
    response = get(client, "resources:need", "asylum-be")
    page = response.content.decode()

    assert response.status_code == 200
    assert "Asylum in Belgium" in page
    assert page.index("In danger right now") < page.index("Which country decides")
    assert page.index("Which country decides") < page.index("Gather evidence early")
    assert "Read <strong>this</strong>." in page
    assert "Listen first" not in page  # written for friends
    assert "Internal checklist" not in page  # written for volunteers
    assert "Legal advice on asylum." in page
    assert 'href="https://www.vluchtelingenwerk.be" rel="noopener noreferrer"' in page
    assert "not available in your language" not in page


def test_a_fallback_is_said_and_marked_with_its_language(client, library):
    page = get(client, "resources:need", "asylum-be", language="ar").content.decode()

    assert '<html lang="ar" dir="rtl">' in page
    assert '<div lang="ar" dir="rtl">\n    <h2 id="dublin-title">أي بلد يقرر</h2>' in page
    # Only in English: said so, and the English text is marked as English, left to right.
    evidence = page[page.index('id="evidence"') :]
    with translation.override("ar"):  # the note is in the visitor's language
        note = gettext(
            "This part is not available in your language yet, so it is shown in %(language)s."
        ) % {"language": "English"}
    assert note in evidence
    assert (
        '<div lang="en" dir="ltr">\n    <h2 id="evidence-title">Gather evidence early</h2>'
        in evidence
    )
    organisation = page[page.index('id="organisation-vluchtelingenwerk"') :]
    assert '<dd lang="en" dir="ltr">Legal advice on asylum.</dd>' in organisation


def test_an_out_of_date_translation_says_so(client, library):
    GuidanceTranslation.objects.filter(guidance__slug="dublin", language="nl").update(
        source_hash=OLDER_ENGLISH
    )
    page = get(client, "resources:need", "asylum-be", language="nl").content.decode()
    assert "Welk land beslist" in page
    with translation.override("nl"):
        warning = gettext(
            "The original text has changed since this translation was made; it may miss the "
            "latest changes."
        )
    assert warning in page


def test_a_piece_past_its_review_date_is_shown_with_a_plain_notice(client, library):
    notice = "This page is being checked."
    assert notice not in get(client, "resources:need", "asylum-be").content.decode()

    Guidance.objects.filter(slug="dublin").update(review_by=date(2026, 1, 1))
    page = get(client, "resources:need", "asylum-be").content.decode()

    dublin = page.split('id="dublin"')[1].split("</article>")[0]
    assert notice in dublin
    assert "Read <strong>this</strong>." in dublin  # still shown, with the notice
    evidence = page.split('id="evidence"')[1].split("</article>")[0]
    assert notice not in evidence


def test_a_piece_says_where_its_facts_come_from(client, db):
    add_guidance(
        "appeal",
        sources=[
            {
                "url": "https://www.rvv-cce.be/en/procedures",
                "title": "Council for Alien Law Litigation: procedures",
                "checked_on": date(2026, 12, 6),
                "supports": "The appeal and its deadline.",
            }
        ],
    )
    page = get(client, "resources:need", "asylum-be").content.decode()
    sources = page.split('<details class="sources">')[1].split("</details>")[0]
    assert 'href="https://www.rvv-cce.be/en/procedures"' in sources
    assert "Council for Alien Law Litigation: procedures" in sources
    assert "read on Dec. 6, 2026" in sources


def test_a_friends_page_starts_with_how_to_help_then_what_the_person_may_read(client, library):
    response = get(client, "resources:need_friend", "asylum-be")
    page = response.content.decode()

    assert response.status_code == 200
    assert "Helping someone" in page
    assert "The person you are helping knows their situation best." in page
    order = [
        'id="urgent-line"',
        'id="friend-listen"',
        "What the person you are helping may want to know",
        'id="dublin"',
        'id="evidence"',
    ]
    assert [page.index(part) for part in order] == sorted(page.index(part) for part in order)
    assert "Internal checklist" not in page


def test_the_friends_principles(client, library):
    response = get(client, "resources:friend")
    page = response.content.decode()

    assert response.status_code == 200
    assert "They are the best judge of their own situation." in page
    assert "Listen first" in page
    assert "Which country decides" not in page
    assert reverse("resources:need_friend", args=["leave"]) in page


def test_a_need_without_guidance_says_where_to_turn(client, library):
    page = get(client, "resources:need", "unsure").content.decode()
    assert "There is no written guide for this situation yet." in page
    assert "Ask a volunteer" in page


def test_an_unknown_need_is_not_found(client, library):
    assert get(client, "resources:need", "nothing").status_code == 404
    assert get(client, "resources:need_friend", "nothing").status_code == 404


def test_the_pages_load_nothing_from_another_origin_and_run_no_inline_script(client, library):
    for name, args in [
        ("resources:guide", []),
        ("resources:friend", []),
        ("resources:need", ["asylum-be"]),
        ("resources:need_friend", ["asylum-be"]),
    ]:
        response = get(client, name, *args, language="ar")
        page = response.content.decode()
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "<script>" not in page
        assert " style=" not in page
        assert 'src="http' not in page
        assert '<link rel="stylesheet" href="/static/' in page
        assert "data-quick-exit" in page


def test_ask_a_volunteer_opens_the_form_with_the_need_chosen(client, library):
    page = get(client, "resources:need", "asylum-be").content.decode()
    assert 'href="/write/?need=asylum-be"' in page
    friend = get(client, "resources:need_friend", "asylum-be").content.decode()
    assert 'href="/write/?for=other&amp;need=asylum-be"' in friend

    form = client.get("/write/?for=other&need=asylum-be").content.decode()
    need = Need.objects.get(slug="asylum-be")
    assert re.search(rf'<input[^>]*value="{need.pk}"[^>]*checked', form)
    assert re.search(r'<input[^>]*value="other"[^>]*checked', form)
    assert client.get("/write/?need=nonsense").status_code == 200
