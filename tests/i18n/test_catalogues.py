"""The public side is translated completely into every language the desk offers."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

PUBLIC_SOURCES = (
    "templates/base.html",
    "templates/public_base.html",
    "templates/400.html",
    "templates/csrf_failure.html",
    "templates/partials/",
    "templates/intake/",
    "templates/resources/",
    "intake/",
    "resources/views.py",
)


def entries(path: Path):
    """(references, flags, msgid, msgstrs) for each entry of a .po file."""
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        refs, flags, fields, current = [], [], {}, None
        for line in block.splitlines():
            if line.startswith("#:"):
                refs += line[2:].split()
            elif line.startswith("#,"):
                flags += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith(("msgid", "msgstr", "msgctxt")):
                current, _, value = line.partition(" ")
                fields[current] = ast.literal_eval(value)
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if "msgid" in fields and fields["msgid"]:
            strs = [value for key, value in fields.items() if key.startswith("msgstr")]
            yield refs, flags, fields["msgid"], strs


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES if code != "en"])
def test_every_public_string_is_translated(language):
    catalogue = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    missing = [
        msgid
        for refs, flags, msgid, msgstrs in entries(catalogue)
        if any(ref.startswith(PUBLIC_SOURCES) for ref in refs)
        and ("fuzzy" in flags or not all(msgstrs))
    ]
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:3]}"


def test_the_catalogues_cover_the_templates():
    # A string added to a public template but never extracted would not show up above.
    catalogue = (Path(settings.BASE_DIR) / "locale/ar/LC_MESSAGES/django.po").read_text()
    for phrase in ("Leave this site quickly", "Your receipt code", "I need help for myself"):
        assert f'msgid "{phrase}"' in catalogue
