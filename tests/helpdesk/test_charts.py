"""The server-drawn SVG charts: well-formed, labelled for screen readers, escaped,
scaled to the largest value, and free of the inline styles the CSP forbids."""

import xml.etree.ElementTree as ET

from helpdesk.charts import bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}rect")


def test_bar_chart_is_labelled_and_scaled():
    svg = bar_chart(
        chart_id="c",
        title="Acceptance",
        description="Same numbers as the table",
        bars=[("Alpha", 50), ("Beta", 100), ("Gamma", None)],
        unit="%",
        flagged={"Beta"},
    )
    root = parse(svg)
    assert root.get("viewBox") == "0 0 360 108" and root.get("width") == "100%"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Acceptance"
    assert root.find(f"{SVG}desc").text == "Same numbers as the table"
    alpha, beta = bars(root)
    assert float(alpha.get("width")) * 2 == float(beta.get("width"))  # half of the largest
    assert "chart__bar--flagged" in beta.get("class") and beta.get("fill") == "#a4262c"
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "50%" in texts and "100%" in texts and "no data" in texts and "Beta ⚠" in texts
    assert "style" not in svg


def test_labels_are_escaped():
    svg = bar_chart(chart_id="c", title="<b>", description="&", bars=[("<script>", 1)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    parse(svg)


def test_empty_and_zero_charts_still_draw():
    parse(bar_chart(chart_id="c", title="t", description="d", bars=[]))
    root = parse(column_chart(chart_id="w", title="t", description="d", columns=[("W01", 0)]))
    assert float(bars(root)[0].get("height")) == 0


def test_column_chart_fits_thirteen_weeks_on_a_phone():
    weeks = [(f"W{n:02d}", n) for n in range(1, 14)]
    root = parse(column_chart(chart_id="w", title="t", description="d", columns=weeks))
    rects = bars(root)
    assert len(rects) == 13
    assert max(float(r.get("x")) + float(r.get("width")) for r in rects) <= 360
    assert float(rects[-1].get("height")) == 140  # the largest fills the plot
    labels = [t.text for t in root.iter(f"{SVG}text") if "chart__label" in t.get("class")]
    assert labels == [label for label, _ in weeks]
