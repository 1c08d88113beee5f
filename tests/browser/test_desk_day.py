"""A volunteer's day (claim, reply, share guidance, close) and a coordinator's
(reassign, pause a volunteer), in the browser, with axe on every page."""

from datetime import timedelta

from django.utils import timezone

from helpdesk import team
from helpdesk.models import Case, Message
from helpdesk.roles import Role
from resources.loader import load_resources
from tests.browser.conftest import assert_accessible, screenshot
from tests.conftest import PASSWORD, make_staff, totp_code
from tests.helpdesk.test_desk import away, new_case, trained


def sign_in(page, base, user):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=code]").fill(totp_code(user))
    page.locator("main form[method=post]:has(input[name=code]) button[type=submit]").first.click()
    page.wait_for_url("**/desk/")


def test_a_volunteers_day(transactional_db, live_server, page):
    load_resources()
    amira = trained(make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira"))
    # It came in while she was on a break: nobody else could take it, so it waits in the
    # pool, and she takes it anyway.
    team.pause(user=amira, until=timezone.localdate() + timedelta(days=1), return_cases=False)
    case = new_case(need="leave", languages=("ar", "en"), urgent=True)

    sign_in(page, live_server.url, amira)
    assert_accessible(page)
    screenshot(page, "desk-01-my-cases")

    page.goto(live_server.url + "/desk/pool/")
    assert case.reference in page.content()
    assert_accessible(page)
    screenshot(page, "desk-02-pool")
    page.get_by_role("button", name="Take this case").click()
    page.wait_for_url(f"**/desk/cases/{case.reference}/")
    assert page.get_by_role(
        "heading", name="Contact protocol — read before any contact"
    ).is_visible()
    assert_accessible(page)
    screenshot(page, "desk-03-workspace")

    page.get_by_label("Answer to the person").fill("We read your message. We are here to help.")
    page.get_by_role("button", name="Send to the person's inbox").click()
    page.locator("form[action$='/share/']").first.locator("button").click()
    page.locator("#id_status").select_option("closed")
    page.locator("#id_reason").select_option("resolved")
    page.get_by_role("button", name="Save status").click()
    assert_accessible(page)
    screenshot(page, "desk-04-closed")

    case.refresh_from_db()
    assert case.volunteer == amira and case.status == Case.Status.CLOSED
    assert Message.objects.filter(case=case, author="staff").count() == 2


def test_a_coordinators_day(transactional_db, live_server, page):
    cora = trained(make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora"))
    amira = trained(make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira"))
    lotte = trained(make_staff("lotte@example.org", Role.VOLUNTEER, first_name="Lotte"))
    with away(cora, lotte):
        case = new_case(volunteer=amira)

    sign_in(page, live_server.url, cora)
    page.goto(live_server.url + "/desk/cases/?urgent=no")
    assert case.reference in page.content()
    assert_accessible(page)
    screenshot(page, "desk-05-all-cases")

    page.goto(live_server.url + f"/desk/cases/{case.reference}/")
    page.get_by_label("Give the case to").select_option(str(lotte.pk))
    page.get_by_role("button", name="Hand over").click()
    case.refresh_from_db()
    assert case.volunteer == lotte

    page.goto(live_server.url + "/desk/team/")
    assert_accessible(page)
    screenshot(page, "desk-06-team")
    page.get_by_role("link", name="Amira").click()
    until = timezone.localdate() + timedelta(days=10)
    page.get_by_label("Paused until").fill(until.isoformat())
    page.get_by_label("go back to the pool").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/desk/team/")
    amira.profile.refresh_from_db()
    assert amira.profile.paused_until == until
    screenshot(page, "desk-07-team-after-pause")


def test_a_hand_over_that_does_not_fit_asks_for_a_reason(transactional_db, live_server, page):
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    amira = trained(make_staff("amira@example.org", Role.VOLUNTEER, first_name="Amira"))
    farid = trained(
        make_staff("farid@example.org", Role.VOLUNTEER, first_name="Farid"),
        languages=("fa",),
        needs=("stay-safe",),
    )
    case = new_case(need="leave", languages=("ar",), volunteer=amira)

    sign_in(page, live_server.url, cora)
    page.goto(live_server.url + f"/desk/cases/{case.reference}/")
    choice = page.get_by_label("Give the case to")
    # The list says, for each person, their languages, needs and load, and why they
    # do not fit.
    option = choice.locator(f"option[value='{farid.pk}']").inner_text()
    assert "fa" in option and "stay-safe" in option and "0/3" in option
    assert "does not fit" in option
    choice.select_option(str(farid.pk))
    page.get_by_role("button", name="Hand over").click()

    warning = page.locator("#hand-over .errors")
    assert "Farid does not fit this case" in warning.inner_text()
    assert "speaks none of the person's languages" in warning.inner_text()
    assert_accessible(page)
    page.locator("#hand-over").scroll_into_view_if_needed()
    path = screenshot(page, "desk-08-hand-over-warning")
    page.locator("#hand-over").screenshot(path=str(path.with_name("desk-08-hand-over-form.png")))
    case.refresh_from_db()
    assert case.volunteer == amira

    page.get_by_label("Why this person, although they do not fit").fill(
        "Farid reads Arabic well; Amira is away for two weeks."
    )
    page.get_by_role("button", name="Hand over").click()
    assert page.get_by_text("The case has been handed over.").is_visible()
    assert page.get_by_text("Farid reads Arabic well").is_visible()  # in the notes
    screenshot(page, "desk-09-handed-over-with-reason")
    case.refresh_from_db()
    assert case.volunteer == farid
