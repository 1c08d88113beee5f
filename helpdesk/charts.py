"""Small bar charts drawn on the server: no JavaScript, nothing downloaded.

The words and numbers of a chart are HTML text, so they keep the page's readable size
on a phone and on a wide screen alike (text inside a scaled SVG grew to about 25 px on
a desktop and shrank to about 10 px on a phone). Only the bars are SVG: one small
drawing per bar, stretched to its row, its length a share of 100. The site's CSP
(`style-src 'self'`) forbids style attributes, not SVG presentation attributes, so a
length is written as `width=` and colours come from classes in haven.css.

A chart is one image for assistive technology (role="img", named by its title and
description); the table printed next to it carries the same numbers and is the text
alternative. A chart with nothing to draw says so instead of showing empty axes."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

MOST_VALUES_SHOWN = 13  # columns beyond this carry no value on top: the table has them
MOST_LABELS_SHOWN = 13  # ... and only every n-th label, so that none overlap on a phone


def number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def share(value: float, largest: float) -> str:
    return number(round(100 * value / largest, 1)) if largest else "0"


def _figure(*, chart_id: str, kind: str, title: str, description: str, body) -> SafeString:
    return format_html(
        '<div class="chart chart--{kind}" id="{id}" role="img" '
        'aria-labelledby="{id}-title {id}-desc">'
        '<span class="visually-hidden" id="{id}-title">{title}</span>'
        '<span class="visually-hidden" id="{id}-desc">{desc}</span>{body}</div>',
        kind=kind,
        id=chart_id,
        title=title,
        desc=description,
        body=body,
    )


def _nothing(*, chart_id: str, kind: str, title: str, description: str) -> SafeString:
    return _figure(
        chart_id=chart_id,
        kind=kind,
        title=title,
        description=description,
        body=format_html('<p class="chart__empty">{}</p>', _("No data in this period.")),
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Iterable[tuple[str, float | None]],
    unit: str = "",
    flagged: Iterable[str] = (),
) -> SafeString:
    """Horizontal bars, one per row, the label above its bar so long names fit on a
    phone. Bars whose label is in `flagged` are drawn in the warning colour and marked
    ⚠; a missing value (None) is written as "no data" instead of a bar."""
    bars = list(bars)
    flagged = set(flagged)
    if not any(value for _, value in bars):
        return _nothing(chart_id=chart_id, kind="bars", title=title, description=description)
    largest = max(value for _, value in bars if value)
    rows = []
    for label, value in bars:
        is_flagged = label in flagged
        if value is None:
            drawing = format_html('<span class="chart__none">{}</span>', _("no data"))
        else:
            drawing = format_html(
                '<svg class="chart__track" viewBox="0 0 100 10" preserveAspectRatio="none" '
                'width="100%" height="14" aria-hidden="true" focusable="false">'
                '<rect x="0" y="0" width="{w}" height="10" class="chart__bar{modifier}"/>'
                '</svg><span class="chart__value">{value}{unit}</span>',
                w=share(value, largest),
                modifier=" chart__bar--flagged" if is_flagged else "",
                value=number(value),
                unit=unit,
            )
        rows.append(
            format_html(
                '<li class="chart__row"><span class="chart__label">{label}{mark}</span>'
                '<span class="chart__drawing">{drawing}</span></li>',
                label=label,
                mark=" ⚠" if is_flagged else "",
                drawing=drawing,
            )
        )
    return _figure(
        chart_id=chart_id,
        kind="bars",
        title=title,
        description=description,
        body=format_html('<ul class="chart__rows">{}</ul>', SafeString("".join(rows))),
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    columns: Iterable[tuple[str, float]],
) -> SafeString:
    """Vertical columns, for a value per week: labels under the columns (every n-th
    when there are many) and each column's value on top when there is room."""
    columns = list(columns)
    if not any(value for _, value in columns):
        return _nothing(chart_id=chart_id, kind="columns", title=title, description=description)
    largest = max(value for _, value in columns)
    label_every = -(-len(columns) // MOST_LABELS_SHOWN)  # ceiling division
    with_values = len(columns) <= MOST_VALUES_SHOWN
    items = format_html_join(
        "",
        '<li class="chart__column">'
        '<span class="chart__value">{}</span>'
        '<svg class="chart__track" viewBox="0 0 10 100" preserveAspectRatio="none" '
        'width="100%" height="140" aria-hidden="true" focusable="false">'
        '<rect x="0" y="{}" width="10" height="{}" class="chart__bar"/></svg>'
        '<span class="chart__label">{}</span></li>',
        (
            (
                number(value) if with_values else "",
                number(100 - float(share(value, largest))),
                share(value, largest),
                label if index % label_every == 0 else "",
            )
            for index, (label, value) in enumerate(columns)
        ),
    )
    return _figure(
        chart_id=chart_id,
        kind="columns",
        title=title,
        description=description,
        body=format_html('<ol class="chart__columns">{}</ol>', items),
    )
