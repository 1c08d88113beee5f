"""One word per thing in every language: the guidance, the referral templates and the
interface name the desk's own things (the receipt code, the case, the volunteer, the
quick exit) as resources/content/glossary.toml says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polib
import pytest
from django.conf import settings

from resources.loader import CONTENT_DIR

LANGUAGES = [code for code, _ in settings.LANGUAGES]
GLOSSARY = tomllib.loads((CONTENT_DIR / "glossary.toml").read_text(encoding="utf-8"))["term"]
LOCALE = Path(settings.BASE_DIR) / "locale"


def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of the interface's messages in `language` (English: themselves)."""
    if language == settings.LANGUAGE_CODE:
        return {}
    return {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
        if entry.msgstr
    }


def library_texts(language: str) -> list[tuple[str, str]]:
    """(where, text) of every guidance and template text in `language` in the files."""
    texts = []
    for folder in ("guidance", "templates", "organisations"):
        for path in sorted((CONTENT_DIR / folder).glob("*.toml")):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            table = data.get("translations", {}).get(language)
            if table:
                text = " ".join(v for k, v in table.items() if k != "source_hash")
                texts.append((f"{folder}/{path.name}", text))
    return texts


def test_the_glossary_covers_every_language():
    for term in GLOSSARY:
        assert set(LANGUAGES) <= set(term), (term["key"], set(LANGUAGES) - set(term))
        for language in LANGUAGES:
            assert term[language]["use"], (term["key"], language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_interface_uses_the_glossarys_words(language):
    messages = catalogue(language)
    for term in GLOSSARY:
        forms = [form.lower() for form in term[language]["use"]]
        for msgid in term["ui"]:
            shown = messages.get(msgid, msgid).lower()
            assert any(form in shown for form in forms), (term["key"], language, shown)
        for msgid, msgstr in messages.items():
            for avoided in term[language]["avoid"]:
                assert avoided.lower() not in msgstr.lower(), (term["key"], language, msgid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_guidance_and_templates_use_the_glossarys_words(language):
    for where, text in library_texts(language):
        for term in GLOSSARY:
            for avoided in term[language]["avoid"]:
                assert avoided.lower() not in text.lower(), (term["key"], language, where, avoided)
