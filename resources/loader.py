"""Load the library's real content from TOML files in resources/content/.

`load_resources()` is called by `manage.py load_resources` (and so by `make run`) and by
the tests. It creates what is missing and leaves alone what exists, because coordinators
may have edited it since; `update=True` makes the files win. Everything is validated
with `full_clean`, and one error anywhere loads nothing.

Every item is one file: guidance/<slug>.toml, organisations/<slug>.toml and
templates/<slug>.toml, each with its sources and a `[translations.<code>]` table per
language. A translation records the version of the source text it was made from
(`source_hash`), so a fresh load knows which translations are behind. The format is
described in docs/content.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from resources.models import (
    Guidance,
    GuidanceSource,
    GuidanceTranslation,
    Language,
    Need,
    Organisation,
    OrganisationSource,
    OrganisationTranslation,
    OwnerRole,
    ReferralTemplate,
    TemplateSource,
)

CONTENT_DIR = Path(__file__).resolve().parent / "content"
CHANGE_REASON = "Loaded from resources/content"

GUIDANCE_KEYS = {
    "slug", "audience", "needs", "countries", "emergency", "position", "source_language",
    "owner", "legal", "review_by", "sources", "translations",
}  # fmt: skip
GUIDANCE_TRANSLATION_KEYS = {"source_hash", "title", "summary", "body"}
ORGANISATION_KEYS = {
    "slug", "name", "website", "needs", "countries", "languages", "verified_on",
    "takes_referrals", "referral_address", "answer_days", "secure_channels",
    "sources", "translations",
}  # fmt: skip
ORGANISATION_TRANSLATION_KEYS = {"source_hash", "offers", "safe_contact", "response_time"}
TEMPLATE_KEYS = {"slug", "organisation", "need", "source_language", "sources", "translations"}
TEMPLATE_TRANSLATION_KEYS = {"source_hash", "subject", "body", "consent"}
SOURCE_KEYS = {"url", "title", "checked_on", "supports"}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # existed, and left as it is because update was not asked for

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.kept} kept as they are"
        )


@dataclass
class LoadReport:
    guidance: Counts = field(default_factory=Counts)
    guidance_translations: Counts = field(default_factory=Counts)
    organisations: Counts = field(default_factory=Counts)
    organisation_translations: Counts = field(default_factory=Counts)
    referral_templates: Counts = field(default_factory=Counts)

    def lines(self) -> list[str]:
        return [
            f"Guidance: {self.guidance}",
            f"Guidance translations: {self.guidance_translations}",
            f"Organisations: {self.organisations}",
            f"Organisation translations: {self.organisation_translations}",
            f"Referral templates: {self.referral_templates}",
        ]


class ContentError(Exception):
    """The content files are wrong; `problems` says where and how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@transaction.atomic
def load_resources(*, directory: Path = CONTENT_DIR, update: bool = False) -> LoadReport:
    report = LoadReport()
    problems: list[str] = []

    def attempt(where: str, load, *args) -> None:
        try:
            load(*args, update=update, report=report)
        except ValidationError as error:
            problems.extend(f"{where}: {message}" for message in messages_of(error))
        except ContentError as error:
            problems.extend(f"{where}: {message}" for message in error.problems)

    # Organisations before the templates written to them.
    for folder, load in (
        ("guidance", load_guidance),
        ("organisations", load_organisation),
        ("templates", load_template),
    ):
        for path in sorted((directory / folder).glob("*.toml")):
            data = read(path, problems)
            if data is not None:
                attempt(f"{folder}/{path.name}", load, data)

    if problems:
        raise ContentError(problems)  # rolls back everything this call wrote
    return report


def read(path: Path, problems: list[str]) -> dict | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{path.name}: {error}")
        return None


def messages_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{name}: {message}"
            for name, errors in error.message_dict.items()
            for message in errors
        ]
    return list(error.messages)


def check_keys(data: dict, allowed: set[str], required: Iterable[str] = ("slug",)) -> None:
    problems = [f"unknown key {key!r}" for key in sorted(set(data) - allowed)]
    problems += [f"missing key {key!r}" for key in required if key not in data]
    if problems:
        raise ContentError(problems)


def snapshot(instance: models.Model) -> dict[str, str]:
    return {
        f.attname: f.value_to_string(instance)
        for f in instance._meta.concrete_fields
        if not f.primary_key and not getattr(f, "auto_now", False)
    }


def save(
    instance: models.Model | None,
    make: type[models.Model],
    values: dict[str, Any],
    *,
    update: bool,
    counts: Counts,
) -> models.Model:
    """Create `make(**values)`, or, with `update`, bring `instance` in line with `values`.

    Saved only when something changed, so a translation's "last changed" stays true
    (it decides whether other translations are out of date)."""
    if instance is None:
        instance = make(**values)
        instance.full_clean()
        instance._change_reason = CHANGE_REASON
        instance.save()
        counts.created += 1
        return instance
    if not update:
        counts.kept += 1
        return instance
    before = snapshot(instance)
    for name, value in values.items():
        setattr(instance, name, value)
    instance.full_clean()
    if snapshot(instance) == before:
        counts.unchanged += 1
    else:
        instance._change_reason = CHANGE_REASON
        instance.save()
        counts.updated += 1
    return instance


def needs_from(slugs: list[str]) -> list[Need]:
    needs = list(Need.objects.filter(slug__in=slugs))
    missing = set(slugs) - {need.slug for need in needs}
    if missing:
        raise ContentError([f"unknown need {slug!r}" for slug in sorted(missing)])
    return needs


def languages_from(codes: list[str]) -> list[Language]:
    languages = list(Language.objects.filter(code__in=codes))
    missing = set(codes) - {language.code for language in languages}
    if missing:
        raise ContentError([f"unknown language {code!r}" for code in sorted(missing)])
    return languages


def set_related(manager, objects: list, *, created: bool, update: bool) -> None:
    if created or update:
        manager.set(objects)


def set_sources(
    model: type[models.Model], link: str, owner: models.Model, entries: list[dict], *, changed: bool
) -> None:
    """The owner's sources (`model` rows whose `link` is `owner`) as the file lists them,
    when the owner was created or updated."""
    if not changed:
        return
    for entry in entries:
        check_keys(entry, SOURCE_KEYS, SOURCE_KEYS)
    wanted = [
        {"url": e["url"], "title": e["title"], "checked_on": e["checked_on"],
         "supports": e["supports"].strip()}
        for e in entries
    ]  # fmt: skip
    present = [
        {"url": s.url, "title": s.title, "checked_on": s.checked_on, "supports": s.supports}
        for s in model.objects.filter(**{link: owner})
    ]
    if present == wanted:
        return
    model.objects.filter(**{link: owner}).delete()
    for position, values in enumerate(wanted):
        source = model(**{link: owner}, position=position, **values)
        source.full_clean()
        source.save()


def translation_values(text: dict, *, source: bool) -> dict:
    """A translation's fields from its table; a source text has no `source_hash` (it is
    its own version)."""
    values = dict(text)
    if source:
        values.pop("source_hash", None)
    else:
        values.setdefault("source_hash", "")
    return values


def source_first(codes, source_language: str) -> list[str]:
    # The source text is saved first, so the translations find its current version.
    return sorted(codes, key=lambda code: (code != source_language, code))


def load_guidance(data: dict, *, update: bool, report: LoadReport) -> Guidance:
    check_keys(data, GUIDANCE_KEYS, ("slug", "audience", "needs", "review_by"))
    translations: dict[str, dict] = data.get("translations", {})
    source_language = data.get("source_language", "en")
    if source_language not in translations:
        raise ContentError([f"no translation in the source language {source_language!r}"])
    needs = needs_from(data["needs"])
    existing = Guidance.objects.filter(slug=data["slug"]).first()
    piece = save(
        existing,
        Guidance,
        {
            "slug": data["slug"],
            "audience": data["audience"],
            "countries": [code.upper() for code in data.get("countries", [])],
            "emergency": data.get("emergency", False),
            "position": data.get("position", 100),
            "source_language_id": source_language,
            "owner_role": data.get("owner", OwnerRole.COORDINATORS),
            "legal": data.get("legal", False),
            "review_by": data["review_by"],
        },
        update=update,
        counts=report.guidance,
    )
    changed = existing is None or update
    set_related(piece.needs, needs, created=existing is None, update=update)
    set_sources(GuidanceSource, "guidance", piece, data.get("sources", []), changed=changed)

    present = {t.language_id: t for t in piece.translations.all()}
    for code in source_first(translations, source_language):
        text = translations[code]
        check_keys(text, GUIDANCE_TRANSLATION_KEYS, ("title", "body"))
        save(
            present.get(code),
            GuidanceTranslation,
            {
                "guidance": piece,
                "language_id": code,
                "summary": "",
                **translation_values(text, source=code == source_language),
            },
            update=update,
            counts=report.guidance_translations,
        )
    return piece


def load_organisation(data: dict, *, update: bool, report: LoadReport) -> Organisation:
    check_keys(data, ORGANISATION_KEYS, ("slug", "name", "needs", "verified_on", "translations"))
    translations: dict[str, dict] = data["translations"]
    needs = needs_from(data["needs"])
    languages = languages_from(data.get("languages", []))
    existing = Organisation.objects.filter(slug=data["slug"]).first()
    organisation = save(
        existing,
        Organisation,
        {
            "slug": data["slug"],
            "name": data["name"],
            "website": data.get("website", ""),
            "countries": [code.upper() for code in data.get("countries", [])],
            "verified_on": data["verified_on"],
            "takes_referrals": data.get("takes_referrals", False),
            "referral_address": data.get("referral_address", ""),
            "answer_days": data.get("answer_days"),
            "secure_channels": data.get("secure_channels", ""),
        },
        update=update,
        counts=report.organisations,
    )
    changed = existing is None or update
    set_related(organisation.needs, needs, created=existing is None, update=update)
    set_related(organisation.languages, languages, created=existing is None, update=update)
    set_sources(
        OrganisationSource, "organisation", organisation, data.get("sources", []), changed=changed
    )

    present = {t.language_id: t for t in organisation.translations.all()}
    for code in source_first(translations, settings.LANGUAGE_CODE):
        text = translations[code]
        check_keys(text, ORGANISATION_TRANSLATION_KEYS, ("offers",))
        save(
            present.get(code),
            OrganisationTranslation,
            {
                "organisation": organisation,
                "language_id": code,
                "safe_contact": "",
                "response_time": "",
                **translation_values(text, source=code == settings.LANGUAGE_CODE),
            },
            update=update,
            counts=report.organisation_translations,
        )
    return organisation


def load_template(data: dict, *, update: bool, report: LoadReport) -> list[ReferralTemplate]:
    """One message in its languages: a template per language, `<slug>-<code>`, each
    translation pointing at the template in the source language."""
    check_keys(data, TEMPLATE_KEYS, ("slug", "organisation", "need", "translations"))
    organisation = Organisation.objects.filter(slug=data["organisation"]).first()
    if organisation is None:
        raise ContentError([f"unknown organisation {data['organisation']!r}"])
    (need,) = needs_from([data["need"]])
    translations: dict[str, dict] = data["translations"]
    source_language = data.get("source_language", settings.LANGUAGE_CODE)
    if source_language not in translations:
        raise ContentError([f"no translation in the source language {source_language!r}"])
    source = None
    templates = []
    for code in source_first(translations, source_language):
        text = translations[code]
        check_keys(text, TEMPLATE_TRANSLATION_KEYS, ("subject", "body"))
        slug = f"{data['slug']}-{code}"
        existing = ReferralTemplate.objects.filter(slug=slug).first()
        template = save(
            existing,
            ReferralTemplate,
            {
                "slug": slug,
                "organisation": organisation,
                "need": need,
                "language_id": code,
                "translation_of": source,
                "consent": "",
                **translation_values(text, source=source is None),
            },
            update=update,
            counts=report.referral_templates,
        )
        set_sources(
            TemplateSource,
            "template",
            template,
            data.get("sources", []),
            changed=existing is None or update,
        )
        source = source or template
        templates.append(template)
    return templates
