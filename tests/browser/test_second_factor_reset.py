"""A volunteer lost their phone: a coordinator resets their second factor from the team
page; the volunteer, signed out everywhere, sets it up again through the mailed link."""

from helpdesk.roles import Role
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_desk_day import sign_in
from tests.browser.test_staff_sign_in import enrol, path_in_mail
from tests.conftest import make_staff
from tests.helpdesk.test_desk import new_case, trained

NEW_PASSWORD = "lantern orchard violet 41"


def test_a_coordinator_resets_a_volunteers_factor_and_they_enrol_again(
    transactional_db, live_server, context_factory
):
    base = live_server.url
    cora = make_staff("cora@example.org", Role.COORDINATOR, first_name="Cora")
    vic = trained(make_staff("vic@example.org", Role.VOLUNTEER, first_name="Vic"))
    case = new_case(volunteer=vic)

    volunteers_browser = context_factory().new_page()
    sign_in(volunteers_browser, base, vic)
    coordinators_browser = context_factory().new_page()
    sign_in(coordinators_browser, base, cora)

    page = coordinators_browser
    page.get_by_role("link", name="Team").click()
    page.get_by_role("link", name="Vic").click()
    assert page.get_by_role("heading", name="Two-step sign-in").is_visible()
    assert_accessible(page)
    screenshot(page, "reset-01-team-member")

    # Not without saying they checked with the person.
    page.get_by_role("button", name="Reset and send a set-up link").click()
    assert page.get_by_text(
        "Please check with the person first, then tick this.", exact=True
    ).is_visible()
    assert_accessible(page)
    screenshot(page, "reset-02-check-first")
    page.get_by_label("I have checked with this person").check()
    page.get_by_role("button", name="Reset and send a set-up link").click()
    assert page.get_by_text("is signed out everywhere").is_visible()
    assert page.get_by_text("Two-step sign-in is not set up").is_visible()
    assert_accessible(page)
    screenshot(page, "reset-03-done")

    # Vic's open desk: the next click finds them signed out.
    page = volunteers_browser
    page.goto(base + f"/desk/cases/{case.reference}/")
    assert "/accounts/login/" in page.url
    screenshot(page, "reset-04-signed-out")

    page.goto(base + path_in_mail("/accounts/set-up/"))
    assert page.get_by_text("vic@example.org").is_visible()
    assert_accessible(page)
    screenshot(page, "reset-05-set-up-link")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()

    enrol(page, "reset-06-enrol")
    page.wait_for_url("**/recovery-codes/")
    assert_accessible(page)
    screenshot(page, "reset-07-recovery-codes")

    page.goto(base + f"/desk/cases/{case.reference}/")
    assert page.get_by_text(case.reference).first.is_visible()
    assert_accessible(page)
    screenshot(page, "reset-08-back-at-the-case")
    page.get_by_role("link", name="Two-step sign-in").click()
    assert page.get_by_role("link", name="Move to a new phone").is_visible()
    assert_accessible(page)
    screenshot(page, "reset-09-two-step-sign-in")

    # The link worked once.
    page.goto(base + "/accounts/logout/")
    other = context_factory().new_page()
    other.goto(base + path_in_mail("/accounts/set-up/"))
    assert other.get_by_role("heading", name="This link cannot be used").is_visible()


def test_a_volunteer_moves_to_a_new_phone(transactional_db, live_server, page):
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from tests.conftest import totp_code

    base = live_server.url
    vic = trained(make_staff("vic@example.org", Role.VOLUNTEER, first_name="Vic"))
    sign_in(page, base, vic)
    page.get_by_role("link", name="Two-step sign-in").click()
    page.get_by_role("link", name="Move to a new phone").click()
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    assert_accessible(page)
    screenshot(page, "new-phone-01-confirm")
    page.get_by_label("Code").fill(totp_code(vic, offset=1))  # the sign-in's code counts once
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Move to a new phone").wait_for()
    assert_accessible(page)
    screenshot(page, "new-phone-02-scan")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(
        format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    )
    page.get_by_role("button", name="Save the new phone").click()
    page.get_by_text("Your new phone is set up").wait_for()
    screenshot(page, "new-phone-03-done")
