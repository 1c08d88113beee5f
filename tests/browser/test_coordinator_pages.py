"""A coordinator's pages as they are seen: the case lists fit a 1366-pixel screen and a
360-pixel phone without the page scrolling sideways; the desk-wide access log; an
invitation that sets the new volunteer's languages and needs. axe on every page."""

from __future__ import annotations

import re

from django.core import mail

from helpdesk.models import User
from helpdesk.roles import Role
from resources.loader import load_resources
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.conftest import make_staff
from tests.helpdesk.test_desk import away, new_case, trained

LAPTOP = {"width": 1366, "height": 768}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def desk_with_cases():
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    amira = trained(
        make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira Benali-Haddad"),
        capacity=10,
    )
    for need, languages in (
        ("leave", ("ar", "fr")),
        ("asylum-be", ("fa", "en")),
        ("leave", ("ar",)),
    ):
        case = new_case(
            need=need, languages=languages, volunteer=amira if "ar" in languages else None
        )
        if case.volunteer == amira:
            case.reply("We read your message.", by=amira)
    with away(amira):
        new_case(need="leave", languages=("ar",), urgent=True)
    return cora, amira


def test_the_case_lists_fit_a_laptop_and_a_phone(transactional_db, live_server, context_factory):
    load_resources()
    cora, _ = desk_with_cases()
    page = context_factory(viewport=LAPTOP).new_page()
    sign_in(page, live_server.url, cora)
    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for path in ("/desk/cases/", "/desk/pool/", "/desk/access-log/", "/desk/team/"):
            page.goto(live_server.url + path)
            assert no_sideways_scroll(page), (name, path)
            assert_accessible(page)
        page.goto(live_server.url + "/desk/cases/")
        assert page.get_by_role("columnheader", name="Status").count() == 1
        screenshot(page, f"coordinator-all-cases-{name}")


def test_the_desk_wide_access_log(transactional_db, live_server, page):
    load_resources()
    cora, amira = desk_with_cases()
    sign_in(page, live_server.url, cora)
    page.get_by_role("link", name="Access log").click()
    page.get_by_label("Staff member").select_option(str(amira.pk))
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tbody tr")
    assert rows.count() >= 1
    assert all("Amira" in rows.nth(i).inner_text() for i in range(rows.count()))
    assert_accessible(page)
    screenshot(page, "coordinator-access-log")


def test_an_invitation_sets_the_new_volunteers_profile(transactional_db, live_server, page):
    load_resources()
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    sign_in(page, live_server.url, cora)
    page.goto(live_server.url + "/desk/team/invite/")
    page.get_by_label("Email address").fill("sara@example.org")
    page.get_by_label("Language of the invitation").select_option("fa")
    page.locator("fieldset:has(legend:text('Languages they speak'))").get_by_label("فارسی").check()
    page.locator("fieldset:has(legend:text('Trained for'))").locator("input").first.check()
    page.get_by_label("Open cases at most").fill("3")
    assert_accessible(page)
    screenshot(page, "coordinator-invite-with-profile")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to sara@example.org.").is_visible()

    link = re.search(r"https?://\S+/accounts/invitation/\S+/", mail.outbox[-1].body).group(0)
    invitee = page.context.browser.new_context().new_page()
    invitee.goto(live_server.url + "/" + link.split("/", 3)[3])
    invitee.get_by_label("Choose a password").fill("a long and unusual passphrase 7")
    invitee.get_by_label("The same password again").fill("a long and unusual passphrase 7")
    invitee.locator("main form button[type=submit]").click()
    sara = User.objects.get(email="sara@example.org")
    assert sara.language == "fa" and sara.profile.capacity == 3
    assert list(sara.profile.languages.values_list("code", flat=True)) == ["fa"]
    assert sara.profile.needs.count() == 1
    invitee.context.close()


def test_the_reports_fit_a_laptop_and_a_phone_with_readable_charts(
    transactional_db, live_server, context_factory
):
    """Issue 14: the referral outcomes and the desk's health fit 1366 px without the page
    scrolling sideways (column names wrap, numbers line up under their names) and stack
    into cards on a phone; chart words keep the page's size on both; a period with
    nothing in it says so instead of drawing empty axes."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from helpdesk.models import Referral
    from tests.helpdesk.test_reports import organisation, referral

    S = Referral.Status
    cora, amira = desk_with_cases()
    start = timezone.now() - timedelta(days=30)
    with time_machine.travel(start, tick=False):
        case = new_case(need="leave", languages=("ar",), volunteer=amira)
    for slug in ("alpha", "beta", "gamma"):
        referral(case, organisation(slug), amira, [(1, S.SENT), (3, S.ACCEPTED)], t0=start)

    page = context_factory(viewport=LAPTOP).new_page()
    sign_in(page, live_server.url, cora)
    label_sizes = set()
    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for report, path in (
            ("referrals", "/desk/reports/referrals/"),
            ("health", "/desk/reports/health/"),
        ):
            page.goto(live_server.url + path)
            assert no_sideways_scroll(page), (name, path)
            assert page.locator(".table-wrap").count() == 0  # no scroll hidden in a box
            label_sizes.add(
                page.evaluate(
                    "getComputedStyle(document.querySelector('.chart__label')).fontSize"
                )
            )
            assert_accessible(page)
            screenshot(page, f"reports-{report}-{name}")
        page.goto(live_server.url + "/desk/reports/referrals/")
        if name == "laptop":
            header = page.get_by_role("columnheader", name="Acceptance rate").first
            assert header.evaluate("h => getComputedStyle(h).textAlign") in {"end", "right"}
        else:  # each organisation's row is a card whose cells name their column
            cell = page.locator("tbody tr", has_text="Alpha").first.locator("td").nth(8)
            assert cell.inner_text() == "100%"
            assert cell.evaluate("c => getComputedStyle(c).display") == "block"
            said = cell.evaluate("c => getComputedStyle(c, '::before').content")
            assert "Acceptance rate" in said
    assert len(label_sizes) == 1 and float(label_sizes.pop().rstrip("px")) >= 13

    page.goto(live_server.url + "/desk/reports/health/?start=2020-01-01&end=2020-03-31")
    assert page.get_by_text("No data in this period.").count() == 2  # both week charts
    assert_accessible(page)
