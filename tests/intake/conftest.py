import re

import pytest
from django.urls import reverse

from resources.models import Need

CANARY = "CANARY-7f3a-unique-content-that-must-never-leak"


def concern(**overrides) -> dict:
    data = {
        "for_whom": "self",
        "need": Need.objects.get(slug="asylum-be").pk,
        "country": "UG",
        "language_1": "en",
        "language_2": "fr",
        "language_3": "",
        "in_danger": "no",
        "description": f"I am not safe at home. {CANARY}",
        "contact_channel": "none",
        "contact_details": "",
        "contact_safe_times": "",
        "contact_code_word": "",
        "consent": "on",
        "submission_key": "key-"
        + str(len(overrides))
        + re.sub(r"\W", "", str(sorted(overrides.items())))[:40],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def receipt_in(response) -> str:
    match = re.search(r'id="receipt-code"[^>]*value="([0-9A-Z-]+)"', response.content.decode())
    assert match, "no receipt on the page"
    return match.group(1)


def second_code_in(response) -> str:
    match = re.search(r'id="second-code"[^>]*value="([0-9A-Z-]+)"', response.content.decode())
    assert match, "no second code on the page"
    return match.group(1)


@pytest.fixture
def submit(client, db):
    def post(**overrides):
        # As a browser does: the receipt is on the page the POST redirects to.
        return client.post(reverse("intake:write"), concern(**overrides), follow=True)

    return post
