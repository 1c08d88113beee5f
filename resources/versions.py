"""The version of a text: what a translation records as the source text it was made
from. A short fingerprint, the same in the database and in the content files, so a
fresh load of resources/content/ knows which translations are behind.

`manage.py content_versions` lists the translations in the files that are behind, and
stamps those a translator brought up to date (docs/content.md)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomlkit


def text_version(*parts: str) -> str:
    """A short fingerprint of a text made of `parts` (title, summary, body…). Line
    endings and the spaces around each part do not count."""
    normal = "\x1f".join((part or "").replace("\r\n", "\n").strip() for part in parts)
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


# The fields that make up the text of each kind of item, in order: their version is
# text_version() of these. The models and the content files share these definitions.
GUIDANCE_TEXT = ("title", "summary", "body")
ORGANISATION_TEXT = ("offers", "safe_contact", "response_time")
TEMPLATE_TEXT = ("subject", "body", "consent")
TEXT_OF_FOLDER = {
    "guidance": GUIDANCE_TEXT,
    "organisations": ORGANISATION_TEXT,
    "templates": TEMPLATE_TEXT,
}
DEFAULT_SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class FileStatus:
    path: Path
    source_language: str
    source_version: str
    behind: list[str]  # translations made from another version of the source text


def file_status(path: Path) -> FileStatus:
    """Which translations in a content file were made from an older source text."""
    fields = TEXT_OF_FOLDER[path.parent.name]
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    source_language = data.get("source_language", DEFAULT_SOURCE_LANGUAGE)
    translations = data.get("translations", {})
    source = translations.get(source_language, {})
    version = text_version(*(source.get(name, "") for name in fields))
    behind = sorted(
        code
        for code, text in translations.items()
        if code != source_language and text.get("source_hash") != version
    )
    return FileStatus(path, source_language, version, behind)


def stamp(path: Path, languages: Iterable[str]) -> list[str]:
    """Record in a content file that the translations in `languages` were made from
    (or checked against) its current source text. Returns the languages stamped.
    Formatting and comments of the file are kept (tomlkit)."""
    status = file_status(path)
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    stamped = []
    for code, table in document.get("translations", {}).items():
        if code in languages and code != status.source_language:
            table["source_hash"] = status.source_version
            stamped.append(code)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return sorted(stamped)
