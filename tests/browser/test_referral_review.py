"""A coordinator on a phone reviews referral outcomes: filters them, sees the stalled
organisation, opens the cases behind a number; then the desk's health. axe on every
page, screenshots saved."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from helpdesk.models import Referral
from helpdesk.roles import Role
from tests.browser.conftest import PHONE, assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.conftest import make_staff
from tests.helpdesk.test_desk import new_case, trained
from tests.helpdesk.test_reports import organisation, referral

S = Referral.Status


def test_a_coordinator_reviews_referral_outcomes(transactional_db, live_server, context_factory):
    # Only Amira takes cases: the coordinator has no training for them.
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    amira = trained(make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira"))
    alpha, beta = organisation("alpha"), organisation("beta")
    # Thirty days ago, well inside the default period of 90 days.
    start = timezone.now() - timedelta(days=30)
    with time_machine.travel(start, tick=False):
        leave = new_case(need="leave", languages=("ar", "en"), volunteer=amira)
        asylum = new_case(need="asylum-be", languages=("fa",), volunteer=amira)
    done = [(1, S.SENT), (3, S.ACCEPTED), (10, S.COMPLETED)]
    referral(leave, alpha, amira, done, t0=start)
    referral(leave, alpha, amira, [(1, S.SENT), (2, S.DECLINED)], t0=start)
    referral(asylum, beta, amira, [(1, S.SENT)], t0=start)
    referral(asylum, beta, amira, [(1, S.SENT), (8, S.NO_RESPONSE)], t0=start)

    page = context_factory(viewport=PHONE).new_page()
    sign_in(page, live_server.url, cora)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/desk/reports/referrals/")
    assert page.get_by_role("heading", name="Organisations whose answers stall").is_visible()
    assert_accessible(page)
    screenshot(page, "reports-01-referral-outcomes-phone")

    page.locator("details.filters-box > summary").click()  # folded until used
    page.get_by_label("Need").select_option("leave")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**need=leave**")
    assert page.get_by_role("row", name="Beta").count() == 0
    assert_accessible(page)
    screenshot(page, "reports-02-filtered-by-need")

    page.get_by_role("link", name="1 Completed — Alpha").click()
    page.wait_for_url("**/desk/reports/referrals/cases/**")
    assert page.get_by_role("link", name=leave.reference).is_visible()
    assert asylum.reference not in page.content()
    assert_accessible(page)
    screenshot(page, "reports-03-drill-down")

    page.goto(live_server.url + "/desk/reports/referrals/?end=2020-01-01")
    assert page.get_by_text("The end of the period is before its start.").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Desk health").click()
    page.wait_for_url("**/desk/reports/health/")
    assert page.get_by_role("heading", name="Waiting for a volunteer").is_visible()
    assert_accessible(page)
    screenshot(page, "reports-04-desk-health-phone")
