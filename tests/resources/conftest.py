"""Library content for tests, made through the loader's own functions (the path the real
content takes), with short defaults so each test says only what matters to it."""

from __future__ import annotations

from datetime import date

from resources.loader import LoadReport, load_guidance, load_organisation, load_template
from resources.models import Guidance, Organisation, ReferralTemplate

TODAY = date(2026, 11, 24)


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
        "reviewed_on": date(2026, 6, 1),
        "review_by": date(2027, 6, 1),
        "translations": {code: text(f"{slug} in {code}") for code in languages},
        **fields,
    }
    return load_guidance(data, update=False, report=LoadReport())


def add_organisation(slug: str, *, languages: tuple[str, ...] = ("en",), **fields) -> Organisation:
    data = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "website": f"https://www.{slug}.example.org",
        "needs": ["asylum-be"],
        "countries": [],
        "languages": ["en"],
        "verified_on": date(2026, 11, 1),
        "offers": {code: f"{slug} offers help ({code})" for code in languages},
        "safe_contact": {code: f"Write to {slug} ({code})" for code in languages},
        "response_time": {code: f"A week ({code})" for code in languages},
        **fields,
    }
    return load_organisation(data, update=False, report=LoadReport())


def add_template(
    slug: str, organisation: str, *, language: str = "en", **fields
) -> ReferralTemplate:
    data = {
        "slug": slug,
        "organisation": organisation,
        "need": "asylum-be",
        "language": language,
        "subject": "Referral {case_reference}",
        "body": "Hello {organisation},\n\nSomeone needs help: {need}.\n\n{volunteer_first_name}",
        **fields,
    }
    return load_template(data, update=False, report=LoadReport())
