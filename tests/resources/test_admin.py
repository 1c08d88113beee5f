"""Coordinators edit the library in the admin; volunteers and outsiders cannot reach it."""

from datetime import date

import pytest
from django.urls import reverse

from resources.models import Guidance, GuidanceTranslation, Need, ReferralTemplate
from tests.resources.conftest import OLDER_ENGLISH, add_guidance, add_organisation, add_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    piece = add_guidance(
        "dublin",
        languages=("en", "nl"),
        translations={
            "en": {
                "title": "Which country decides",
                "body": "Read **this**.\n\n<script>alert(1)</script>[x](javascript:alert(1))",
            },
            "nl": {"title": "Welk land beslist", "body": "Lees **dit**."},
        },
    )
    add_guidance("old", review_by=date(2021, 1, 1))
    add_organisation("vluchtelingenwerk")
    add_template("vw-en", "vluchtelingenwerk")
    return piece


def guidance_form(piece: Guidance, **changes) -> dict:
    """The change form as the browser would post it, with `changes` applied."""
    data = {
        "slug": piece.slug,
        "audience": piece.audience,
        "needs": [n.pk for n in piece.needs.all()],
        "countries": [],
        "source_language": piece.source_language_id,
        "position": piece.position,
        "review_by": piece.review_by.isoformat(),
        "owner_role": piece.owner_role,
        "sources-TOTAL_FORMS": 0,
        "sources-INITIAL_FORMS": 0,
        "reviews-TOTAL_FORMS": 0,
        "reviews-INITIAL_FORMS": 0,
        "translations-TOTAL_FORMS": piece.translations.count(),
        "translations-INITIAL_FORMS": piece.translations.count(),
        "translations-MIN_NUM_FORMS": 0,
        "translations-MAX_NUM_FORMS": 1000,
    }
    for index, translation in enumerate(piece.translations.order_by("language_id")):
        prefix = f"translations-{index}-"
        data |= {
            prefix + "id": translation.pk,
            prefix + "guidance": piece.pk,
            prefix + "language": translation.language_id,
            prefix + "title": translation.title,
            prefix + "summary": translation.summary,
            prefix + "body": translation.body,
        }
    return data | changes


ADMIN_PAGES = [
    ("admin:resources_guidance_changelist", []),
    ("admin:resources_organisation_changelist", []),
    ("admin:resources_referraltemplate_changelist", []),
    ("admin:resources_need_changelist", []),
    ("admin:resources_language_changelist", []),
]


@pytest.mark.parametrize("name, args", ADMIN_PAGES)
def test_coordinator_reaches_the_library(coordinator_client, library, name, args):
    assert coordinator_client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize("name, args", ADMIN_PAGES)
def test_volunteers_and_outsiders_are_refused(client, volunteer_client, outsider, name, args):
    url = reverse(name, args=args)
    response = volunteer_client.get(url)
    assert response.status_code == 302
    assert "/login/" in response.url
    volunteer_client.logout()
    volunteer_client.force_login(outsider)  # no second factor: signed out, shown nothing
    assert volunteer_client.get(url).status_code == 403


def test_the_list_shows_stale_and_out_of_date_flags(coordinator_client, library):
    GuidanceTranslation.objects.filter(guidance=library, language="nl").update(
        source_hash=OLDER_ENGLISH
    )
    url = reverse("admin:resources_guidance_changelist")

    page = coordinator_client.get(url).content.decode()
    assert "Which country decides" in page
    assert "not stale" in page.lower()
    assert "nl (out of date)" in page

    def listed(query: str) -> set[str]:
        response = coordinator_client.get(f"{url}?{query}")
        assert response.status_code == 200
        return {g.slug for g in response.context["cl"].result_list}

    assert listed("review=stale") == {"old"}
    assert listed("review=current") == {"dublin"}
    assert listed("out_of_date=yes") == {"dublin"}
    assert listed("out_of_date=no") == {"old"}
    assert listed("language=nl") == {"dublin"}
    assert listed("missing=nl") == {"old"}
    assert listed("audience=person") == {"dublin", "old"}
    assert listed(f"needs__id__exact={Need.objects.get(slug='asylum-be').pk}") == {"dublin", "old"}


def test_the_change_form_previews_the_saved_text_sanitised(coordinator_client, library):
    response = coordinator_client.get(reverse("admin:resources_guidance_change", args=[library.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        '<div class="markdown-preview" lang="en" dir="ltr"><p>Read <strong>this</strong>.</p>'
        in page
    )
    assert "<script>alert(1)</script>" not in page.split("markdown-preview")[1]
    assert 'href="javascript' not in page
    assert "Source text" in page
    assert "Up to date" in page


def test_ticking_checked_puts_a_translation_back_up_to_date(coordinator_client, library):
    GuidanceTranslation.objects.filter(guidance=library, language="nl").update(
        source_hash=OLDER_ENGLISH
    )
    url = reverse("admin:resources_guidance_change", args=[library.pk])
    assert "Out of date" in coordinator_client.get(url).content.decode()

    response = coordinator_client.post(
        url, guidance_form(library, **{"translations-1-checked": "on"})
    )

    assert response.status_code == 302, response.context["errors"]
    assert Guidance.objects.with_translations().get(pk=library.pk).out_of_date_languages() == []


def test_an_edit_of_the_source_text_is_recorded_in_its_history(
    coordinator_client, coordinator, library
):
    url = reverse("admin:resources_guidance_change", args=[library.pk])
    response = coordinator_client.post(
        url, guidance_form(library, **{"translations-0-body": "New."})
    )
    assert response.status_code == 302

    english = library.translations.get(language="en")
    assert english.body == "New."
    assert english.history.first().history_user == coordinator
    history = coordinator_client.get(
        reverse("admin:resources_guidancetranslation_history", args=[english.pk])
    )
    assert history.status_code == 200
    assert Guidance.objects.with_translations().get(pk=library.pk).out_of_date_languages() == ["nl"]


def test_the_source_language_text_cannot_be_removed(coordinator_client, library):
    url = reverse("admin:resources_guidance_change", args=[library.pk])
    response = coordinator_client.post(
        url, guidance_form(library, **{"translations-0-DELETE": "on"})
    )
    assert response.status_code == 200
    assert "Write the text in the source language (en) too" in response.content.decode()
    assert library.translations.count() == 2


def test_history_pages_load(coordinator_client, library):
    template = ReferralTemplate.objects.get()
    for name, pk in [
        ("admin:resources_guidance_history", library.pk),
        ("admin:resources_organisation_history", template.organisation_id),
        ("admin:resources_referraltemplate_history", template.pk),
    ]:
        assert coordinator_client.get(reverse(name, args=[pk])).status_code == 200


def test_a_template_with_an_unknown_placeholder_is_refused_next_to_the_field(
    coordinator_client, library
):
    template = ReferralTemplate.objects.get()
    url = reverse("admin:resources_referraltemplate_change", args=[template.pk])
    response = coordinator_client.post(
        url,
        {
            "slug": template.slug,
            "organisation": template.organisation_id,
            "need": template.need_id,
            "language": "en",
            "subject": "Referral {case_reference}",
            "body": "Hello {volunteer}",
        },
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["body"]
    assert "Unknown placeholder {volunteer}" in form.errors["body"][0]
    template.refresh_from_db()
    assert template.body.startswith("Hello {organisation}")


def test_a_saved_template_shows_an_example(coordinator_client, library):
    template = ReferralTemplate.objects.get()
    page = coordinator_client.get(
        reverse("admin:resources_referraltemplate_change", args=[template.pk])
    ).content.decode()
    assert "Referral HVN-7Q4K-2M9X" in page
    assert "Hello Vluchtelingenwerk" in page


def test_a_coordinator_makes_an_organisation_a_partner_in_the_admin(coordinator_client, library):
    from resources.models import Organisation

    organisation = Organisation.objects.get(slug="vluchtelingenwerk")
    url = reverse("admin:resources_organisation_change", args=[organisation.pk])
    page = coordinator_client.get(url).content.decode()
    for label in ("Takes referrals through Haven", "Address referrals go to",
                  "Usually answers within (days)", "Secure channels"):  # fmt: skip
        assert label in page
    form = {
        "name": organisation.name,
        "slug": organisation.slug,
        "website": organisation.website,
        "needs": [n.pk for n in organisation.needs.all()],
        "languages": [language.pk for language in organisation.languages.all()],
        "verified_on": "2026-12-01",
        "takes_referrals": "on",
        "answer_days": "4",
        "secure_channels": "Signal",
        "sources-TOTAL_FORMS": 0,
        "sources-INITIAL_FORMS": 0,
        "translations-TOTAL_FORMS": 0,
        "translations-INITIAL_FORMS": 0,
    }
    refused = coordinator_client.post(url, form)
    assert refused.status_code == 200
    assert "Say where referrals through Haven go." in refused.content.decode()
    saved = coordinator_client.post(url, {**form, "referral_address": "in@vw.example.org"})
    assert saved.status_code == 302
    organisation.refresh_from_db()
    assert organisation.takes_referrals and organisation.referral_address == "in@vw.example.org"
    assert organisation.answer_days == 4
