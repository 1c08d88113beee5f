import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from helpdesk.roles import Role
from tests.browser.conftest import assert_accessible, screenshot
from tests.conftest import PASSWORD, make_staff


def test_coordinator_signs_in_enrols_totp_and_reaches_the_desk(transactional_db, live_server, page):
    make_staff("cora@example.org", Role.COORDINATOR, mfa=False, first_name="Cora")

    page.goto(live_server.url + "/desk/")
    assert "/accounts/login/" in page.url
    assert_accessible(page)
    screenshot(page, "staff-01-sign-in")

    page.get_by_label("Email").fill("cora@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Straight to enrolment: nothing else is reachable without a second factor.
    page.wait_for_url("**/2fa/totp/activate/")
    assert_accessible(page)
    screenshot(page, "staff-02-enrol-totp")
    secret = page.locator("#authenticator_secret").input_value()
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Activate").click()

    page.goto(live_server.url + "/desk/")
    assert page.get_by_role("heading", name="My cases").is_visible()
    assert "Cora" in page.content()
    assert_accessible(page)
    screenshot(page, "staff-03-desk")
