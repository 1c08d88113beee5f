"""load_resources(): reads the TOML content, creates what is missing, keeps what
coordinators edited unless asked to update, and loads nothing when anything is wrong."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from textwrap import dedent

import pytest
from django.core.management import CommandError, call_command

from resources.loader import ContentError, load_resources
from resources.models import (
    Audience,
    Guidance,
    GuidanceTranslation,
    Organisation,
    ReferralTemplate,
)

pytestmark = pytest.mark.django_db

DUBLIN = """
slug = "asylum-be-dublin"
audience = "person"
needs = ["asylum-be"]
countries = []
emergency = false
position = 20
source_language = "en"
review_by = 2027-05-24

[[sources]]
url = "https://eur-lex.europa.eu/eli/reg/2024/1351/oj"
title = "Regulation (EU) 2024/1351"
checked_on = 2026-12-06
supports = "Which country handles an application."

# Listed before the source text on purpose: the loader saves the source first.
[translations.nl]
source_hash = "3aa53184991ee857"
title = "Dublin"
summary = "Welk land behandelt je aanvraag?"
body = "De **Dublinverordening** bepaalt het."

[translations.en]
title = "Dublin"
summary = "Which country handles your claim?"
body = "The **Dublin Regulation** decides."
"""

HOTLINE = """
slug = "stay-safe-hotline"
audience = "person"
needs = ["stay-safe"]
countries = ["ug", "KE"]
emergency = true
position = 1
review_by = 2027-05-24

[translations.en]
title = "Emergency hotline"
body = "Call them."
"""

ORGANISATION = """
slug = "front-line-defenders"
name = "Front Line Defenders"
website = "https://www.frontlinedefenders.org"
needs = ["stay-safe"]
countries = []
languages = ["en", "fr", "ar"]
verified_on = 2026-11-24

[translations.en]
offers = "An emergency hotline."
safe_contact = "Use their website from a safe device."
response_time = "At any hour."

[translations.ar]
source_hash = "0123456789abcdef"
offers = "خط طوارئ."
"""

TEMPLATE = """
slug = "fld-request"
organisation = "front-line-defenders"
need = "stay-safe"

[translations.en]
subject = "Request {case_reference}"
body = \"\"\"Dear {organisation},

A defender in {country} needs help. {volunteer_first_name}\"\"\"
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(content), encoding="utf-8")
    return directory


@pytest.fixture
def content(tmp_path) -> Path:
    return write(
        tmp_path,
        {
            "guidance/asylum-be-dublin.toml": DUBLIN,
            "guidance/stay-safe-hotline.toml": HOTLINE,
            "organisations/front-line-defenders.toml": ORGANISATION,
            "templates/fld-request.toml": TEMPLATE,
        },
    )


def test_loads_guidance_organisations_and_templates(content):
    report = load_resources(directory=content)

    assert (report.guidance.created, report.guidance_translations.created) == (2, 3)
    assert (report.organisations.created, report.organisation_translations.created) == (1, 2)
    assert report.referral_templates.created == 1

    dublin = Guidance.objects.with_translations().get(slug="asylum-be-dublin")
    assert dublin.audience == Audience.PERSON
    assert [n.slug for n in dublin.needs.all()] == ["asylum-be"]
    assert dublin.out_of_date_languages() == []  # the source text was saved first
    assert dublin.translations.get(language="nl").summary == "Welk land behandelt je aanvraag?"
    hotline = Guidance.objects.get(slug="stay-safe-hotline")
    assert sorted(c.code for c in hotline.countries) == ["KE", "UG"]
    assert hotline.emergency
    assert hotline.translations.get().summary == ""

    fld = Organisation.objects.get(slug="front-line-defenders")
    assert sorted(fld.languages.values_list("code", flat=True)) == ["ar", "en", "fr"]
    arabic = fld.translations.get(language="ar")
    assert (arabic.offers, arabic.safe_contact) == ("خط طوارئ.", "")
    assert ReferralTemplate.objects.get().organisation == fld


def test_loading_twice_changes_nothing(content):
    load_resources(directory=content)
    report = load_resources(directory=content)

    assert report.guidance.created == 0
    assert report.guidance.kept == 2
    assert report.guidance_translations.kept == 3
    assert report.referral_templates.kept == 1
    assert Guidance.objects.count() == 2
    assert GuidanceTranslation.history.count() == 3


def test_what_a_coordinator_edited_is_kept_unless_update_is_asked_for(content):
    load_resources(directory=content)
    english = GuidanceTranslation.objects.get(guidance__slug="asylum-be-dublin", language="en")
    english.body = "Edited by a coordinator."
    english.save()
    Guidance.objects.filter(slug="asylum-be-dublin").update(position=99)

    load_resources(directory=content)
    english.refresh_from_db()
    assert english.body == "Edited by a coordinator."
    assert Guidance.objects.get(slug="asylum-be-dublin").position == 99

    report = load_resources(directory=content, update=True)
    english.refresh_from_db()
    assert english.body == "The **Dublin Regulation** decides."
    assert Guidance.objects.get(slug="asylum-be-dublin").position == 20
    assert (report.guidance.updated, report.guidance.unchanged) == (1, 1)
    assert (report.guidance_translations.updated, report.guidance_translations.unchanged) == (1, 2)


def test_updating_the_source_text_alone_flags_the_translations(content):
    load_resources(directory=content)
    changed = DUBLIN.replace("The **Dublin Regulation** decides.", "New rules apply.")
    write(content, {"guidance/asylum-be-dublin.toml": changed})

    load_resources(directory=content, update=True)

    dublin = Guidance.objects.with_translations().get(slug="asylum-be-dublin")
    assert dublin.out_of_date_languages() == ["nl"]


def test_a_translation_added_to_the_files_is_added_to_an_existing_piece(content):
    load_resources(directory=content)
    more = HOTLINE + '\n[translations.fr]\ntitle = "Ligne d’urgence"\nbody = "Appelez-les."\n'
    write(content, {"guidance/stay-safe-hotline.toml": more})

    report = load_resources(directory=content)

    assert report.guidance_translations.created == 1
    assert Guidance.objects.get(slug="stay-safe-hotline").translations.count() == 2


@pytest.mark.parametrize(
    "filename, text, message",
    [
        (
            "templates/fld-request.toml",
            TEMPLATE.replace("{case_reference}", "{case.id}"),
            "templates/fld-request.toml: subject: Unknown placeholder {case.id}",
        ),
        (
            "templates/fld-request.toml",
            TEMPLATE.replace("{country}", "{country"),
            "templates/fld-request.toml: body: A brace is left open",
        ),
        (
            "templates/fld-request.toml",
            TEMPLATE.replace('organisation = "front-line-defenders"', 'organisation = "nobody"'),
            "unknown organisation 'nobody'",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace('needs = ["asylum-be"]', 'needs = ["asylum-xx"]'),
            "asylum-be-dublin.toml: unknown need 'asylum-xx'",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace('audience = "person"', 'audience = "everyone"'),
            "asylum-be-dublin.toml: audience:",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace('source_language = "en"', 'source_language = "fr"'),
            "no translation in the source language 'fr'",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace("emergency = false", "emergency = false\nurgent = true"),
            "unknown key 'urgent'",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace("[translations.nl]", "[translations.xx]"),
            "asylum-be-dublin.toml: language:",
        ),
        (
            "guidance/asylum-be-dublin.toml",
            DUBLIN.replace("countries = []", 'countries = ["ZZ"]'),
            "asylum-be-dublin.toml: countries:",
        ),
        ("guidance/asylum-be-dublin.toml", 'slug = "x', "asylum-be-dublin.toml: "),
        (
            "organisations/front-line-defenders.toml",
            ORGANISATION.replace('languages = ["en", "fr", "ar"]', 'languages = ["klingon"]'),
            "unknown language 'klingon'",
        ),
        (
            "organisations/front-line-defenders.toml",
            ORGANISATION.replace("verified_on", "takes_referrals = true\nverified_on"),
            "front-line-defenders.toml: referral_address: Say where referrals",
        ),
        (
            "organisations/front-line-defenders.toml",
            ORGANISATION.replace("verified_on", "answer_days = 0\nverified_on"),
            "front-line-defenders.toml: answer_days:",
        ),
    ],
)
def test_a_mistake_anywhere_loads_nothing_and_says_where(content, filename, text, message):
    write(content, {filename: text})

    with pytest.raises(ContentError) as error:
        load_resources(directory=content)

    assert any(
        problem.startswith(message) or message in problem for problem in error.value.problems
    ), error.value.problems
    assert not Guidance.objects.exists()
    assert not Organisation.objects.exists()
    assert not ReferralTemplate.objects.exists()


def test_the_command_prints_counts(content):
    out = StringIO()
    call_command("load_resources", directory=content, stdout=out)
    assert "Guidance: 2 created, 0 updated, 0 unchanged, 0 kept as they are" in out.getvalue()
    assert "Referral templates: 1 created" in out.getvalue()


def test_the_command_stops_on_bad_content(content):
    write(content, {"templates/fld-request.toml": TEMPLATE.replace("{country}", "{land}")})
    with pytest.raises(CommandError, match=r"Nothing was loaded:\n.*\{land\}"):
        call_command("load_resources", directory=content, stdout=StringIO())
    assert not Guidance.objects.exists()


PARTNER = ORGANISATION.replace(
    "verified_on",
    """takes_referrals = true
referral_address = "referrals@partner.example.org"
answer_days = 3
secure_channels = "Signal; encrypted email"
verified_on""",
)


def test_the_partner_directory_loads_from_the_files(content):
    write(content, {"organisations/front-line-defenders.toml": PARTNER})
    load_resources(directory=content)
    partner = Organisation.objects.get(slug="front-line-defenders")
    assert partner.takes_referrals and partner.referral_address == "referrals@partner.example.org"
    assert partner.answer_days == 3 and partner.secure_channels == "Signal; encrypted email"
    assert partner.covers("TR") and partner.works_in_any(["fa", "ar"])
    assert partner.works_in_any(["fa"]) is False


def test_an_organisation_says_nothing_of_referrals_unless_its_file_does(content):
    load_resources(directory=content)
    organisation = Organisation.objects.get(slug="front-line-defenders")
    assert not organisation.takes_referrals and organisation.referral_address == ""
    assert organisation.answer_days is None and organisation.secure_channels == ""
