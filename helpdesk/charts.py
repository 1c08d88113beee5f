"""Small bar charts drawn on the server as SVG: no JavaScript, nothing downloaded.

The site's CSP (`style-src 'self'`) forbids style attributes and <style> elements, not
SVG presentation attributes, so colours are set with `fill=` and classes from
haven.css. Each chart has a <title> and <desc>; the table printed next to it carries the
same numbers, which is the text alternative. A viewBox and width="100%" let a chart
shrink to a 360 px phone."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH = 360
BAR = "#1f5f8b"  # --accent
FLAG = "#a4262c"  # --danger
INK = "#1d2327"
MUTED = "#4a5560"


def number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _svg(*, chart_id: str, title: str, description: str, height: int, body: SafeString) -> str:
    return format_html(
        '<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" width="100%" '
        'role="img" aria-labelledby="{id}-title {id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        id=chart_id,
        w=WIDTH,
        h=height,
        title=title,
        desc=description,
        body=body,
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
    phone. Bars whose label is in `flagged` are drawn in the warning colour; a missing
    value (None) is written as "no data" instead of a bar."""
    bars = list(bars)
    flagged = set(flagged)
    row, bar_height, room_for_value = 36, 14, 70
    largest = max((value for _, value in bars if value), default=0) or 1
    parts = []
    for index, (label, value) in enumerate(bars):
        top = index * row
        is_flagged = label in flagged
        parts.append(
            format_html(
                '<text x="0" y="{y}" font-size="13" fill="{ink}" class="chart__label">'
                "{label}{mark}</text>",
                y=top + 13,
                ink=INK,
                label=label,
                mark=" ⚠" if is_flagged else "",
            )
        )
        if value is None:
            parts.append(
                format_html(
                    '<text x="0" y="{y}" font-size="12" fill="{muted}" class="chart__value">'
                    "{text}</text>",
                    y=top + 30,
                    muted=MUTED,
                    text=_("no data"),
                )
            )
            continue
        length = round((WIDTH - room_for_value) * value / largest, 1)
        parts.append(
            format_html(
                '<rect x="0" y="{y}" width="{w}" height="{h}" fill="{fill}" '
                'class="chart__bar{modifier}"/>'
                '<text x="{tx}" y="{ty}" font-size="12" fill="{ink}" class="chart__value">'
                "{value}{unit}</text>",
                y=top + 18,
                w=length,
                h=bar_height,
                fill=FLAG if is_flagged else BAR,
                modifier=" chart__bar--flagged" if is_flagged else "",
                tx=length + 4,
                ty=top + 30,
                ink=INK,
                value=number(value),
                unit=unit,
            )
        )
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=max(len(bars), 1) * row,
        body=SafeString("".join(parts)),
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    columns: Iterable[tuple[str, float]],
) -> SafeString:
    """Vertical columns, for a value per week: the labels go under the columns and
    each column carries its value on top."""
    columns = list(columns)
    plot_height, label_room, value_room = 140, 30, 16
    slot = WIDTH / max(len(columns), 1)
    largest = max((value for _, value in columns), default=0) or 1
    small = slot < 30  # many weeks on a phone: smaller type
    parts = []
    for index, (label, value) in enumerate(columns):
        height = round(plot_height * value / largest, 1)
        x = round(index * slot + slot * 0.15, 1)
        middle = round(index * slot + slot / 2, 1)
        parts.append(
            format_html(
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" class="chart__bar"/>'
                '<text x="{mx}" y="{vy}" font-size="{fs}" text-anchor="middle" fill="{ink}" '
                'class="chart__value">{value}</text>'
                '<text x="{mx}" y="{ly}" font-size="{fs}" text-anchor="middle" fill="{muted}" '
                'class="chart__label">{label}</text>',
                x=x,
                y=round(value_room + plot_height - height, 1),
                w=round(slot * 0.7, 1),
                h=height,
                fill=BAR,
                mx=middle,
                vy=round(value_room + plot_height - height - 3, 1),
                ly=value_room + plot_height + 16,
                fs=9 if small else 12,
                ink=INK,
                muted=MUTED,
                value=number(value),
                label=label,
            )
        )
    baseline = format_html(
        '<line x1="0" x2="{w}" y1="{y}" y2="{y}" stroke="{muted}" stroke-width="1"/>',
        w=WIDTH,
        y=value_room + plot_height,
        muted=MUTED,
    )
    return _svg(
        chart_id=chart_id,
        title=title,
        description=description,
        height=value_room + plot_height + label_room,
        body=SafeString(baseline + "".join(parts)),
    )
