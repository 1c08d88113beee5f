"""Posts from our own pages pass under `Referrer-Policy: no-referrer`; others do not."""

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def post_login(client: Client, email: str, **headers):
    client.get(reverse("account_login"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    return client.post(
        reverse("account_login"),
        {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        **headers,
    )


def test_a_same_origin_post_with_null_origin_passes(volunteer):
    client = Client(enforce_csrf_checks=True)
    response = post_login(
        client, volunteer.email, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert response.status_code == 302


def test_a_cross_site_post_is_refused_with_a_friendly_page(volunteer):
    client = Client(enforce_csrf_checks=True)
    response = post_login(
        client, volunteer.email, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()


def test_a_post_from_another_origin_is_refused(volunteer):
    client = Client(enforce_csrf_checks=True)
    response = post_login(
        client,
        volunteer.email,
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403


def test_a_post_without_token_is_refused(volunteer):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("account_login"),
        {"login": volunteer.email, "password": PASSWORD},
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403
