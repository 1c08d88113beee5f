import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from helpdesk import invitations
from helpdesk.roles import Role
from tests.browser.conftest import assert_accessible, screenshot

PASSWORD = "correct horse battery staple"


def path_in_mail(pattern: str) -> str:
    """The path of the link in the last mail (its host is SITE_URL, not the test's)."""
    return re.search(rf"https?://[^/\s]+({pattern}\S+/)", mail.outbox[-1].body).group(1)


def enrol(page, name: str) -> None:
    """On the enrolment page: type the code of the secret shown, as an app would."""
    page.wait_for_url("**/2fa/totp/activate/")
    assert_accessible(page)
    screenshot(page, name)
    secret = page.locator("#authenticator_secret").input_value()
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Activate").click()


def test_an_invited_coordinator_chooses_a_password_enrols_and_reaches_the_desk(
    transactional_db, live_server, page
):
    invitations.invite_staff(email="cora@example.org", role=Role.COORDINATOR, invited_by=None)
    page.goto(live_server.url + path_in_mail("/accounts/invitation/"))
    assert_accessible(page)
    screenshot(page, "staff-01-invitation")

    page.get_by_label("First name").fill("Cora")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # Straight to enrolment: nothing else is reachable without a second factor.
    enrol(page, "staff-02-enrol-totp")

    page.goto(live_server.url + "/desk/")
    assert page.get_by_role("heading", name="My cases").is_visible()
    assert "Cora" in page.content()
    assert_accessible(page)
    screenshot(page, "staff-03-desk")
