"""The public side is translated completely into every language the desk offers."""

import ast
import shutil
import subprocess
import sys
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


def test_every_message_is_translated_in_every_language_after_makemessages(tmp_path):
    """Extract the messages afresh from a copy of the code, as `makemessages` would, and
    count with `msgfmt --statistics`: no language may have a message untranslated or
    fuzzy, staff pages and emails included. (A copy, so the real catalogues are never
    touched by a test.)"""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "haven"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "var", "test-artifacts", "staticfiles", "bench",
        "tests", "__pycache__", "*.mo",
    )  # fmt: skip
    shutil.copytree(root, copy, ignore=skip)
    languages = [code for code, _ in settings.LANGUAGES if code != "en"]
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-v", "0"]
        + [f"--locale={code}" for code in languages],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    for language in languages:
        po = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        result = subprocess.run(
            ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
            capture_output=True,
            text=True,
            check=True,
        )
        report = result.stderr.strip()
        assert "untranslated" not in report and "fuzzy" not in report, f"{language}: {report}"
