"""Guidance bodies are rendered by one function; whatever a body holds, the output has no
script, no script URL and no event handler. No database is involved."""

import re

import pytest
from django.utils.safestring import SafeString

from resources.rendering import render_markdown


def test_markdown_becomes_html():
    html = render_markdown("Read **this** first.\n\n- one\n- two")
    assert isinstance(html, SafeString)
    assert "<strong>this</strong>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        "<style>body{display:none}</style>",
        "<iframe src='https://evil.example'></iframe>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<p onclick='alert(1)' onmouseover=alert(1)>text</p>",
        "<form action='https://evil.example'><input name=x></form>",
    ],
)
def test_raw_html_comes_out_inert(body):
    html = render_markdown(f"Before.\n\n{body}\n\nAfter.").lower()
    for dangerous in ("<script", "<style", "<iframe", "<img", "<svg", "<form", "<input"):
        assert dangerous not in html
    assert not re.search(r"\son\w+\s*=", html)
    assert "before." in html
    assert "after." in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        "[x](//evil.example/path)",
        '<a href="/\\evil.example">x</a>',
        '<a href="\\\\evil.example">x</a>',
        '<a href="/&#9;/evil.example">x</a>',
        "<javascript:alert(1)>",
    ],
)
def test_links_that_could_run_code_or_leave_quietly_lose_their_target(link):
    html = render_markdown(link)
    assert "href" not in html
    assert "javascript" not in html.lower().replace(">x<", "")


@pytest.mark.parametrize(
    "link, href",
    [
        ("[site](https://www.example.org/page)", "https://www.example.org/page"),
        ("[site](http://example.org)", "http://example.org"),
        ("[mail](mailto:help@example.org)", "mailto:help@example.org"),
        ("[the friend's guide](/guide/friend/)", "/guide/friend/"),
    ],
)
def test_safe_links_are_kept_and_open_without_referrer(link, href):
    html = render_markdown(link)
    assert f'href="{href}"' in html
    assert 'rel="noopener noreferrer"' in html


def test_an_authors_rel_or_target_is_replaced():
    html = render_markdown('<a href="https://example.org" rel="opener" target="_blank">x</a>')
    assert 'rel="noopener noreferrer"' in html
    assert "target" not in html
    assert "opener" not in html.replace("noopener", "")


def test_headings_nest_under_the_pieces_title():
    html = render_markdown("# Top\n\ntext\n\n## Below")
    assert "<h3>Top</h3>" in html
    assert "<h4>Below</h4>" in html
    assert "<h1" not in html and "<h2" not in html


def test_empty_body_is_empty():
    assert render_markdown("") == ""


def test_a_link_shows_where_it_leads_isolated_left_to_right():
    html = render_markdown(
        "اتصل بـ [خط الطوارئ](https://www.frontlinedefenders.org/en/emergency-contact) الآن."
    )
    assert 'href="https://www.frontlinedefenders.org/en/emergency-contact"' in html
    # The address follows the link's text, in a left-to-right island, breakable after
    # each slash and dot.
    assert (
        '</a> (<span class="link-address" dir="ltr">frontlinedefenders.<wbr>org/<wbr>en/'
        "<wbr>emergency-contact</span>) الآن" in html
    )


def test_a_link_whose_text_is_its_address_is_not_repeated():
    html = render_markdown("[vluchtelingenwerk.be](https://www.vluchtelingenwerk.be)")
    assert html.count("vluchtelingenwerk") == 2  # the href, and the text once
    assert '<a href="https://www.vluchtelingenwerk.be" rel="noopener noreferrer">' in html
    assert '<span class="link-address" dir="ltr">vluchtelingenwerk.<wbr>be</span></a>' in html


def test_links_within_haven_show_no_address():
    html = render_markdown("[the friend's guide](/guide/friend/)")
    assert "link-address" not in html


def test_an_author_cannot_use_the_address_markup_for_anything_else():
    html = render_markdown('<span class="evil link-address" dir="rtl" onclick="x">s</span>')
    assert "evil" not in html and "rtl" not in html and "onclick" not in html
