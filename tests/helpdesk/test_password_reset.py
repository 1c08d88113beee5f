"""Password reset: nothing is sent to an address without an account, and what is sent
speaks in Haven's neutral voice, with links to the configured site address."""

import re

from django.urls import reverse

from tests.conftest import sign_in

SITE = "https://desk.example.net"


def ask_reset(client, email: str, host: str = "attacker.example"):
    return client.post(reverse("account_reset_password"), {"email": email}, HTTP_HOST=host)


def test_an_unknown_address_gets_no_mail(client, db, mailoutbox, settings):
    settings.ALLOWED_HOSTS = ["attacker.example"]
    response = ask_reset(client, "someone-watched@example.org")
    assert response.status_code == 302
    assert mailoutbox == []


def test_the_page_says_the_same_whether_or_not_the_address_has_an_account(
    client, volunteer, mailoutbox, settings
):
    settings.ALLOWED_HOSTS = ["attacker.example"]
    unknown = ask_reset(client, "someone-watched@example.org")
    known = ask_reset(client, volunteer.email)
    assert unknown.url == known.url
    assert len(mailoutbox) == 1


def test_the_mail_is_neutral_and_links_to_the_configured_site(
    client, volunteer, mailoutbox, settings
):
    settings.ALLOWED_HOSTS = ["attacker.example"]
    settings.SITE_URL = SITE
    settings.SITE_NAME = "Garden tips"
    ask_reset(client, volunteer.email)
    [mail] = mailoutbox
    text = mail.subject + "\n" + mail.body
    assert mail.to == [volunteer.email]
    assert mail.from_email == settings.DEFAULT_FROM_EMAIL
    assert "Garden tips" in mail.subject
    assert "attacker.example" not in text  # never the host the request named
    assert "example.com" not in text
    links = re.findall(r"https?://\S+", mail.body)
    assert links and all(link.startswith(SITE + "/") for link in links)
    for word in ("LGBT", "asylum", "helpdesk", "Haven"):
        assert word.lower() not in text.lower()


def test_the_link_in_the_mail_sets_a_new_password(client, volunteer, mailoutbox, settings):
    settings.SITE_URL = SITE
    ask_reset(client, volunteer.email, host="testserver")
    [link] = re.findall(r"https?://\S+", mailoutbox[0].body)
    path = link.removeprefix(SITE)
    form = client.get(path, follow=True)
    assert form.status_code == 200
    new = "another horse battery staple"
    response = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"password1": new, "password2": new},
    )
    assert response.status_code == 302
    sign_in(client, volunteer, password=new)
    assert client.get(reverse("desk")).status_code == 200
