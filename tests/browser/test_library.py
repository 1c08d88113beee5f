"""The library as its readers meet it: shared guidance read in the inbox on a phone, in
Persian and in English, with tappable links and no Markdown; a piece past its review
date on the public guide; a coordinator's review. axe on every page."""

from __future__ import annotations

import re
from datetime import date

from helpdesk import cases
from helpdesk.roles import Role
from intake import receipts
from resources.loader import load_resources
from resources.matching import match_for_volunteer
from resources.models import Guidance, Need
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.conftest import make_staff


def new_case_with_receipt(*, language: str, languages: list[str]):
    receipt = receipts.new_receipt()
    case = cases.submit_concern(
        receipt_hash=receipts.receipt_hash(receipt),
        submission_key=f"library-{language}",
        for_whom="self",
        need=Need.objects.get(slug="asylum-be"),
        country="IR",
        languages=languages,
        language=language,
        urgent=False,
        description="My application was refused.",
    )
    return case, receipts.display(receipt)


def share(case, volunteer, slug: str) -> None:
    """Share a piece as the workspace does: in the person's best language."""
    if case.volunteer_id is None:
        case.claim(by=volunteer)
    matches = match_for_volunteer(need=case.need.slug, languages=case.languages, country="IR")
    item = next(m for m in matches.guidance if m.guidance.slug == slug)
    case.share_guidance(
        by=volunteer,
        title=item.translation.title,
        text=item.translation.body,
        language=item.language,
    )


def open_inbox(context, base: str, receipt: str):
    page = context.new_page()
    page.goto(base + "/follow-up/")
    page.locator("#id_receipt").fill(receipt)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/follow-up/inbox/"))
    return page


def assert_reads_as_a_page(page) -> None:
    shared = page.locator(".bubble__text--guidance")
    assert shared.count() == 1
    text = shared.inner_text()
    assert "##" not in text and "](" not in text and "**" not in text
    links = shared.locator("a[href^='https://']")
    assert links.count() >= 1
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box and box["height"] >= 20, box  # big enough to tap
    # Every address is shown, isolated left to right.
    assert shared.locator(".link-address[dir=ltr]").count() >= 1
    # Nothing runs off the side of the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_shared_guidance_reads_as_a_page_on_a_phone_in_persian_and_english(
    transactional_db, live_server, context_factory
):
    load_resources()
    volunteer = make_staff("vida@example.org", Role.VOLUNTEER, first_name="Vida")

    for language, slug in (("fa", "asylum-be-overview"), ("en", "asylum-be-dublin")):
        case, receipt = new_case_with_receipt(language=language, languages=[language])
        share(case, volunteer, slug)
        context = context_factory(javascript=False, viewport=PHONE, locale=language)
        page = open_inbox(context, live_server.url, receipt)

        assert page.locator("html").get_attribute("lang") == language
        shared = page.locator(".bubble__text--guidance")
        assert shared.get_attribute("lang") == language
        assert shared.get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
        assert_reads_as_a_page(page)
        assert_accessible(page)
        path = screenshot(page, f"library-shared-{language}-inbox")
        shared.screenshot(path=str(path.with_name(f"library-shared-{language}-guide.png")))


def test_a_piece_past_its_review_date_says_it_is_being_checked(
    transactional_db, live_server, context_factory
):
    load_resources()
    Guidance.objects.filter(slug="asylum-be-dublin").update(review_by=date(2026, 1, 1))
    page = context_factory(javascript=False, viewport=PHONE, locale="fa").new_page()
    page.goto(live_server.url + "/guide/asylum-be/")

    piece = page.locator("article#asylum-be-dublin")
    notice = piece.locator(".notice--checking")
    assert notice.is_visible()
    assert page.locator(".notice--checking").count() == 1  # only the overdue piece
    assert_accessible(page)
    path = screenshot(page, "library-overdue-fa")
    piece.screenshot(path=str(path.with_name("library-overdue-fa-piece.png")))


def test_a_coordinator_reviews_a_piece_beside_its_translation(transactional_db, live_server, page):
    load_resources()
    coordinator = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    Guidance.objects.filter(slug="asylum-be-dublin").update(review_by=date(2026, 1, 1))

    sign_in(page, live_server.url, coordinator)
    page.get_by_role("link", name="Library review").click()
    due = page.locator("section[aria-labelledby=due-title]")
    assert due.get_by_text("review overdue").first.is_visible()
    assert_accessible(page)
    screenshot(page, "library-review-01-due")

    dublin = Guidance.objects.with_translations().get(slug="asylum-be-dublin")
    title = dublin.source_translation().title
    due.get_by_role("link", name=title).click()
    page.get_by_role("link", name="فارسی").click()
    assert page.locator("article[lang=fa][dir=rtl]").is_visible()
    assert page.locator("article[lang=en][dir=ltr]").is_visible()
    assert_accessible(page)
    screenshot(page, "library-review-02-side-by-side")

    page.get_by_label("What changed, or what you checked").fill("Read against EUR-Lex.")
    page.get_by_role("button", name="I read it against its sources: record the review").click()
    assert page.get_by_text("Review recorded.").is_visible()
    assert page.get_by_text("Read against EUR-Lex.").is_visible()
    assert_accessible(page)
    screenshot(page, "library-review-03-recorded")

    dublin.refresh_from_db()
    assert dublin.reviewed_on is not None and not dublin.is_stale()
    review = dublin.reviews.get()
    assert review.reviewed_by == coordinator and review.languages == ["fa"]
