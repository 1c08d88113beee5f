"""A <select> that does not render one template per option.

Django renders every <option> through its own template (and an include for its
attributes): the concern form's country list alone is ~250 of them, and the
coordinators' case filter lists every volunteer. The options of a set of choices are
the same for every request, so they are rendered once; only `selected` differs, and it
is added at render time. The markup is the one Django's templates give.
"""

from __future__ import annotations

from functools import lru_cache

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe


@lru_cache(maxsize=128)
def rendered_options(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """(value, the option, the option selected) for each choice."""
    rendered = []
    for value, label in choices:
        text = conditional_escape(label)
        rendered.append(
            (
                value,
                f'<option value="{escape(value)}">{text}</option>',
                f'<option value="{escape(value)}" selected>{text}</option>',
            )
        )
    return tuple(rendered)


class PrerenderedSelect(forms.Select):
    """Choices may be grouped as Django's are: (group label, [(value, label), ...])."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        attrs = self.build_attrs(self.attrs, attrs)
        selected = self.format_value(value)
        # Like Django's Select: only the first option with the value is marked.
        self.chosen = selected[0] if selected else None
        parts = []
        for group, options in self.groups():
            rendered = self.rendered(options)
            if group is None:
                parts.extend(rendered)
            else:
                inner = "".join(f"\n  {part}\n" for part in rendered)
                parts.append(f'<optgroup label="{escape(group)}">{inner}\n</optgroup>')
        # Byte for byte Django's select.html, whose option template ends in a newline.
        options = "".join(f"\n  {part}\n" for part in parts)
        return mark_safe(  # noqa: S308 - every name, value and label is escaped
            f'<select name="{escape(name)}"{rendered_attrs(attrs)}>{options}\n</select>'
        )

    def groups(self) -> list[tuple[str | None, tuple[tuple[str, str], ...]]]:
        """The choices as (group label or None, its options), in order."""
        groups, loose = [], []
        for value, label in self.choices:
            if isinstance(label, list | tuple):
                if loose:
                    groups.append((None, tuple(loose)))
                    loose = []
                groups.append((str(value), tuple((str(v), str(text)) for v, text in label)))
            else:
                loose.append((str(value), str(label)))
        if loose:
            groups.append((None, tuple(loose)))
        return groups

    def rendered(self, options: tuple[tuple[str, str], ...]) -> list[str]:
        parts = []
        for option_value, option, option_selected in rendered_options(options):
            if option_value == self.chosen:
                parts.append(option_selected)
                self.chosen = None
            else:
                parts.append(option)
        return parts


def rendered_attrs(attrs: dict) -> str:
    """As Django's attrs.html: True is a bare attribute, False none."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
