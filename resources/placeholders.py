"""Named placeholders in referral templates, such as {need} or {case_reference}.

Templates are filled by plain substitution of plain strings, never with `str.format`:
a template written in the admin can reach no attribute, index or format machinery.
Anything but a known name in single braces is refused when the template is saved.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

PLACEHOLDERS = (
    "need",
    "country",
    "languages",
    "volunteer_first_name",
    "case_reference",
    "organisation",
    "consent",
)
KNOWN = " ".join(f"{{{name}}}" for name in PLACEHOLDERS)

HELP = format_lazy(
    "{intro} {known}. {braces}",
    intro=_("Placeholders you can use:"),
    known=KNOWN,
    braces=_("Write {{ or }} for a brace of its own."),
)

Values = Mapping[str, str]


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def parse(text: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pairs; raises ValidationError."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise ValidationError(
            _("A brace is left open or closed on its own. Write {{ or }} for a brace of its own."),
            code="malformed",
        ) from None
    pairs = []
    unknown = []
    for literal, name, format_spec, conversion in parts:
        if name is not None and (name not in PLACEHOLDERS or format_spec or conversion):
            unknown.append(text_of(name, format_spec, conversion))
        pairs.append((literal, name))
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(unknown)s. Use only: %(known)s."),
            code="unknown_placeholder",
            params={"unknown": ", ".join(unknown), "known": KNOWN},
        )
    return pairs


def text_of(name: str, format_spec: str | None, conversion: str | None) -> str:
    conversion = f"!{conversion}" if conversion else ""
    format_spec = f":{format_spec}" if format_spec else ""
    return "{" + name + conversion + format_spec + "}"


def validate(text: str) -> None:
    parse(text)


def used(text: str) -> set[str]:
    return {name for _literal, name in parse(text) if name is not None}


def fill(text: str, values: Values) -> str:
    """The text with every placeholder replaced by its value.

    `values` must hold every placeholder the text uses (KeyError otherwise); values are
    inserted as they are, so a value containing braces stays literal. A placeholder
    left empty (such as {consent} before consent is recorded) leaves no double space."""
    filled = ""
    for literal, name in parse(text):
        if filled.endswith(" ") and literal.startswith(" "):
            literal = literal[1:]
        filled += literal
        if name is not None:
            filled += str(values[name])
    return filled
