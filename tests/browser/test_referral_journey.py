"""A volunteer refers a case to an organisation from a template, records the answer
and closes the loop, in the browser, with axe on every page."""

from helpdesk.models import Referral
from helpdesk.roles import Role
from resources.loader import load_resources
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.conftest import make_staff
from tests.helpdesk.test_desk import new_case, trained


def test_a_volunteer_refers_a_case_and_records_the_outcome(transactional_db, live_server, page):
    load_resources()
    lotte = trained(make_staff("lotte@example.org", Role.VOLUNTEER, first_name="Lotte"))
    case = new_case(need="asylum-be", languages=("en",), volunteer=lotte)

    sign_in(page, live_server.url, lotte)
    page.goto(live_server.url + f"/desk/cases/{case.reference}/#referrals")
    page.locator("#referrals a[href*='?template=']").first.click()
    page.get_by_label("Yes, they agreed").check()
    page.get_by_role("button", name="Write the message").click()
    body = page.locator("#id_body")
    assert case.reference in body.input_value() and "{" not in body.input_value()
    assert_accessible(page)
    screenshot(page, "referral-01-from-template")
    body.fill(body.input_value() + "\nShe prefers contact by Signal.")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Record the referral").click()

    referral = Referral.objects.get(case=case)
    form = page.locator(f"form[action$='/referrals/{referral.pk}/'].referral-update")
    form.locator("select[name=to]").select_option("sent")
    form.get_by_role("button", name="Update the referral").click()
    page.get_by_role("button", name="Tell the person (in their language)").click()
    form = page.locator(f"form[action$='/referrals/{referral.pk}/'].referral-update")
    form.locator("select[name=to]").select_option("accepted")
    form.get_by_role("button", name="Update the referral").click()
    form = page.locator(f"form[action$='/referrals/{referral.pk}/'].referral-update")
    form.locator("select[name=to]").select_option("completed")
    form.locator("textarea[name=note]").fill("A lawyer with LGBTI+ experience took the case.")
    form.get_by_role("button", name="Update the referral").click()
    assert_accessible(page)
    screenshot(page, "referral-02-completed")

    referral.refresh_from_db()
    assert referral.status == "completed"
    assert referral.body.endswith("She prefers contact by Signal.")
    assert list(referral.events.values_list("status", flat=True)) == [
        "drafted",
        "sent",
        "accepted",
        "completed",
    ]
