"""The coordinators' review of the library: what is due, a piece beside its translation
and sources, one click to record a review; legal reviews only by legal reviewers; the
coordinators told once of a piece past its review date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk import team
from helpdesk.notifications import announce_overdue_guidance
from helpdesk.roles import Role
from resources.models import Guidance
from tests.conftest import make_staff
from tests.resources.conftest import OLDER_ENGLISH, add_guidance

pytestmark = pytest.mark.django_db

SOURCE = {
    "url": "https://www.cgra.be/en/asylum/sexual-orientation-and-gender-identity",
    "title": "CGRS: sexual orientation and gender identity",
    "checked_on": date(2026, 12, 6),
    "supports": "How the CGRS handles such applications.",
}


@pytest.fixture
def pieces():
    appeal = add_guidance(
        "appeal",
        languages=("en", "fr", "fa"),
        legal=True,
        owner="legal-reviewers",
        review_by=timezone.localdate() + timedelta(days=90),
        sources=[SOURCE],
        translations={
            "en": {"title": "Appealing a refusal", "body": "You can **appeal**."},
            "fr": {"title": "Faire appel d'un refus", "body": "Vous pouvez **faire appel**."},
            "fa": {"title": "اعتراض به جواب رد", "body": "می‌توانید **اعتراض** کنید."},
        },
    )
    calm = add_guidance(
        "calm", review_by=timezone.localdate() + timedelta(days=120), sources=[SOURCE]
    )
    old = add_guidance("old", review_by=date(2026, 1, 1), sources=[SOURCE])
    return appeal, calm, old


def test_only_coordinators_reach_the_review(volunteer_client, outsider, pieces):
    half_signed_in = Client()
    half_signed_in.force_login(outsider)  # a password, but no second factor
    for url in (reverse("library_review"), reverse("library_piece", args=["appeal"])):
        assert volunteer_client.get(url).status_code == 403
        assert volunteer_client.post(url, {"note": "x"}).status_code == 403
        # Sent to set up a second factor, or refused: never the page.
        assert half_signed_in.get(url).status_code in (302, 403)
        assert half_signed_in.post(url, {"note": "x"}).status_code in (302, 403)
    assert not pieces[0].reviews.exists()


def test_the_list_puts_what_is_due_first_and_says_why(coordinator_client, pieces):
    page = coordinator_client.get(reverse("library_review")).content.decode()
    due, current = page.split('id="current-title"')
    assert "Due for review: 2 pieces" in due
    assert "Appealing a refusal" in due and "needs legal review" in due
    assert "old in en" in due and "review overdue" in due
    assert "calm in en" in current and "calm in en" not in due


def test_a_piece_is_read_beside_a_translation_and_its_sources(coordinator_client, pieces):
    url = reverse("library_piece", args=["appeal"])
    page = coordinator_client.get(url + "?language=fa").content.decode()
    assert 'lang="en" dir="ltr"' in page and "You can <strong>appeal</strong>." in page
    assert 'lang="fa" dir="rtl"' in page and "<strong>اعتراض</strong>" in page
    assert SOURCE["url"] in page and SOURCE["title"] in page
    assert "Only a legal reviewer can record the legal review of this piece." in page


def test_one_click_records_a_review_and_moves_the_next_one(coordinator_client, coordinator, pieces):
    appeal = pieces[0]
    Guidance.objects.filter(pk=appeal.pk).update(review_notified_at=timezone.now())
    appeal.translations.filter(language="fr").update(source_hash=OLDER_ENGLISH)

    response = coordinator_client.post(
        reverse("library_piece", args=["appeal"]),
        {"languages": ["fr"], "note": "Checked the deadlines against the CALL's page."},
    )

    assert response.status_code == 302
    appeal = Guidance.objects.with_reviews().get(pk=appeal.pk)
    review = appeal.reviews.get()
    assert (review.reviewed_by, review.languages, review.legal) == (coordinator, ["fr"], False)
    assert review.note == "Checked the deadlines against the CALL's page."
    assert appeal.reviewed_on == timezone.localdate()
    assert appeal.review_by == timezone.localdate() + timedelta(days=180)
    assert appeal.review_notified_at is None
    assert appeal.out_of_date_languages() == []
    # A coordinator who is not a legal reviewer: the legal review is still missing.
    assert appeal.needs_legal_review()


def test_a_posted_legal_review_without_the_permission_is_not_recorded_as_legal(
    coordinator_client, coordinator, pieces
):
    coordinator_client.post(reverse("library_piece", args=["appeal"]), {"legal": "on"})
    assert not pieces[0].reviews.get().legal
    with pytest.raises(PermissionDenied):
        pieces[0].record_review(by=coordinator, legal=True)


def test_a_legal_reviewer_records_the_legal_review_until_the_text_changes(
    coordinator_client, coordinator, pieces
):
    team.set_legal_reviewer(user=coordinator, allowed=True)
    url = reverse("library_piece", args=["appeal"])
    assert "This is a legal review" in coordinator_client.get(url).content.decode()

    coordinator_client.post(url, {"legal": "on", "note": "Deadlines checked."})

    appeal = Guidance.objects.with_reviews().get(pk=pieces[0].pk)
    assert appeal.reviews.get().legal
    assert not appeal.needs_legal_review()

    english = appeal.translations.get(language="en")
    english.body = "You can appeal within the deadline in your letter."
    english.save()
    assert Guidance.objects.with_reviews().get(pk=appeal.pk).needs_legal_review()


def test_the_coordinators_are_told_once_of_a_piece_past_its_review_date(coordinator, pieces):
    other_coordinator = make_staff("other@example.org", Role.COORDINATOR)
    assert announce_overdue_guidance() == 2  # "old", to each coordinator
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [coordinator.email, other_coordinator.email]
    )
    assert "old in en" in mail.outbox[0].body and "/desk/library/old/" in mail.outbox[0].body
    assert announce_overdue_guidance() == 0

    # A review starts a new period: when that one is overdue, they are told again.
    pieces[2].record_review(by=coordinator)
    with time_machine.travel(timezone.now() + timedelta(days=200)):
        assert announce_overdue_guidance() >= 2
