"""The server-drawn charts: words and numbers as page text (so they keep a readable
size at any width), bars scaled to the largest value, one image for screen readers
named by its title and description, escaped, free of the inline styles the CSP forbids,
and a plain "No data in this period." when there is nothing to draw."""

import xml.etree.ElementTree as ET

from helpdesk.charts import bar_chart, column_chart


def parse(html: str) -> ET.Element:
    return ET.fromstring(html)  # noqa: S314 - our own output, well-formed by design


def bars(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("rect"))


def texts(root: ET.Element, kind: str) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter() if kind in node.get("class", "")]


def test_bar_chart_is_labelled_and_scaled():
    html = bar_chart(
        chart_id="c",
        title="Acceptance",
        description="Same numbers as the table",
        bars=[("Alpha", 50), ("Beta", 100), ("Gamma", None)],
        unit="%",
        flagged={"Beta"},
    )
    root = parse(html)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(".//*[@id='c-title']").text == "Acceptance"
    assert root.find(".//*[@id='c-desc']").text == "Same numbers as the table"
    alpha, beta = bars(root)
    assert float(alpha.get("width")) == 50 and float(beta.get("width")) == 100
    assert "chart__bar--flagged" in beta.get("class")
    assert texts(root, "chart__label") == ["Alpha", "Beta ⚠", "Gamma"]
    assert texts(root, "chart__value") == ["50%", "100%"]
    assert texts(root, "chart__none") == ["no data"]
    assert "style" not in html and "font-size" not in html  # text sized by the page


def test_labels_are_escaped():
    html = bar_chart(chart_id="c", title="<b>", description="&", bars=[("<script>", 1)])
    assert "<script>" not in html and "&lt;script&gt;" in html
    parse(html)


def test_a_chart_with_nothing_to_draw_says_so():
    for html in (
        bar_chart(chart_id="c", title="t", description="d", bars=[]),
        bar_chart(chart_id="c", title="t", description="d", bars=[("A", 0), ("B", None)]),
        column_chart(chart_id="w", title="t", description="d", columns=[("W01", 0), ("W02", 0)]),
    ):
        root = parse(html)
        assert texts(root, "chart__empty") == ["No data in this period."]
        assert not bars(root)


def test_column_chart_fits_thirteen_weeks_with_values_and_labels():
    weeks = [(f"W{n:02d}", n) for n in range(1, 14)]
    root = parse(column_chart(chart_id="w", title="t", description="d", columns=weeks))
    rects = bars(root)
    assert len(rects) == 13
    assert float(rects[-1].get("height")) == 100 and float(rects[-1].get("y")) == 0
    assert float(rects[0].get("height")) == round(100 / 13, 1)
    assert texts(root, "chart__label") == [label for label, _ in weeks]
    assert texts(root, "chart__value") == [str(n) for n in range(1, 14)]


def test_a_year_of_weeks_labels_every_few_and_leaves_values_to_the_table():
    weeks = [(f"W{n:02d}", n) for n in range(1, 53)]
    root = parse(column_chart(chart_id="w", title="t", description="d", columns=weeks))
    labels = [label for label in texts(root, "chart__label") if label]
    assert labels == [f"W{n:02d}" for n in range(1, 53, 4)]  # 13 labels, none overlapping
    assert not any(texts(root, "chart__value"))
