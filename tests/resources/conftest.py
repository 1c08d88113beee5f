"""Library content for tests, made through the loader's own functions (the path the real
content takes), with short defaults so each test says only what matters to it."""

from __future__ import annotations

from datetime import date

from resources.loader import LoadReport, load_guidance, load_organisation, load_template
from resources.models import Guidance, Organisation, ReferralTemplate
from resources.versions import text_version

TODAY = date(2026, 11, 24)
# The version of a source text that is no longer current: a translation recording it was
# made from an older text.
OLDER_ENGLISH = "0" * 16


def text(title: str, body: str = "Some **guidance**.", summary: str = "") -> dict:
    return {"title": title, "summary": summary, "body": body}


def add_guidance(
    slug: str,
    *,
    languages: tuple[str, ...] = ("en",),
    needs: tuple[str, ...] = ("asylum-be",),
    **fields,
) -> Guidance:
    data = {
        "slug": slug,
        "audience": "person",
        "needs": list(needs),
        "countries": [],
        "emergency": False,
        "position": 10,
        "source_language": "en",
        "review_by": date(2027, 6, 1),
        "translations": {code: text(f"{slug} in {code}") for code in languages},
        **fields,
    }
    made_from_current_source(data["translations"], data["source_language"])
    return load_guidance(data, update=False, report=LoadReport())


def made_from_current_source(translations: dict, source_language: str) -> None:
    """Translations that say no better are made from the current source text, as a
    translator's would be."""
    source = translations[source_language]
    version = text_version(source["title"], source.get("summary", ""), source["body"])
    for code, translation in translations.items():
        if code != source_language:
            translation.setdefault("source_hash", version)


def add_organisation(
    slug: str,
    *,
    languages: tuple[str, ...] = ("en",),
    works_in: tuple[str, ...] = ("en",),
    **fields,
) -> Organisation:
    """An organisation with its texts in `languages`, working in `works_in`."""
    data = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "website": f"https://www.{slug}.example.org",
        "needs": ["asylum-be"],
        "countries": [],
        "languages": list(works_in),
        "verified_on": date(2026, 11, 1),
        "translations": {
            code: {
                "offers": f"{slug} offers help ({code})",
                "safe_contact": f"Write to {slug} ({code})",
                "response_time": f"A week ({code})",
            }
            for code in languages
        },
        **fields,
    }
    english = data["translations"].get("en")
    if english is not None:
        version = text_version(
            english["offers"], english.get("safe_contact", ""), english.get("response_time", "")
        )
        for code, translation in data["translations"].items():
            if code != "en":
                translation.setdefault("source_hash", version)
    return load_organisation(data, update=False, report=LoadReport())


def add_template(
    slug: str, organisation: str, *, language: str = "en", **fields
) -> ReferralTemplate:
    """One template, `slug`, in `language` (a message family of one: its own source)."""
    family, _, code = slug.rpartition("-")
    if code != language or not family:
        raise ValueError("A template's slug ends with its language: name it <family>-<code>.")
    text = {
        "subject": fields.pop("subject", "Referral {case_reference}"),
        "body": fields.pop(
            "body", "Hello {organisation},\n\nSomeone needs help: {need}.\n\n{volunteer_first_name}"
        ),
    }
    data = {
        "slug": family,
        "organisation": organisation,
        "need": fields.pop("need", "asylum-be"),
        "source_language": language,
        "translations": {language: text},
        **fields,
    }
    (template,) = load_template(data, update=False, report=LoadReport())
    return template
