"""Guidance bodies are Markdown written by coordinators; this is the one place that turns
them into HTML, wherever a piece appears (the public guide, the receipt, the person's
inbox, the volunteer's workspace, the admin's preview). Markdown passes raw HTML
through, so its output goes through nh3 (the ammonia sanitiser) with a small
allow-list before anything is marked safe.

Every link to another site shows where it leads, next to its text, so nobody taps a
link blind and the address can be read aloud or copied by hand. Addresses are
left-to-right by nature: they are isolated (`dir="ltr"`) so that inside Arabic or
Persian text they keep their order, and may break after a slash or a dot on a narrow
phone instead of in the middle of a word."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "span", "wbr",
    "h3", "h4", "h5", "h6", "blockquote", "code", "pre", "hr",
}  # fmt: skip
HEADING = re.compile(r"h[1-6]")
# A body sits under the page's <h1> and the piece's own <h2> title.
TOP_HEADING_LEVEL = 3
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


# Browsers read a backslash as a slash and drop tabs and newlines inside an address, so
# "/\\host" and "/\t/host" lead to another origin as "//host" does.
DISGUISED_ORIGIN = re.compile(r"^/[/\\]|[\\\s\x00-\x1f\x7f]")


def same_site_only(url: str) -> str | None:
    # Relative links may point within Haven ("/guide/friend/", "#top"), but "//host"
    # is another origin in disguise.
    if DISGUISED_ORIGIN.search(url):
        return None
    if url.startswith("#") or url.startswith("/"):
        return url
    return None


cleaner = nh3.Cleaner(
    tags=TAGS,
    clean_content_tags={"script", "style"},
    attributes=ATTRIBUTES,
    tag_attribute_values={"span": {"dir": {"ltr"}}},
    allowed_classes={"span": {"link-address"}},
    url_schemes=URL_SCHEMES,
    url_relative=same_site_only,
    link_rel="noopener noreferrer",
    strip_comments=True,
)

# Link text that is itself an address ("vluchtelingenwerk.be", "www.example.org/x").
ADDRESS_LIKE = re.compile(r"^(https?://)?[\w.-]+\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)


def shown_address(href: str) -> str | None:
    """How a link's address is shown: host and path, without the scheme or "www.";
    the email address of a mailto link; None for links within Haven."""
    parts = urlsplit(href)
    if parts.scheme == "mailto":
        return parts.path
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    address = parts.hostname.removeprefix("www.") + parts.path.rstrip("/")
    return address + (f"?{parts.query}" if parts.query else "")


def write_breakable(parent: Element, address: str) -> None:
    """The address as text in `parent`, with a <wbr> after each slash and dot so that a
    long address wraps there on a narrow screen."""
    pieces = re.split(r"(?<=[/.])", address)
    parent.text = pieces[0]
    for piece in pieces[1:]:
        SubElement(parent, "wbr").tail = piece


def ltr_span(parent: Element, index: int, address: str) -> Element:
    span = Element("span", {"class": "link-address", "dir": "ltr"})
    write_breakable(span, address)
    parent.insert(index, span)
    return span


class ShowLinkAddresses(Treeprocessor):
    """After each link to another site, its address; a link whose text is already an
    address gets that text isolated left to right instead."""

    def run(self, root: Element) -> None:
        for parent in list(root.iter()):
            for link in [child for child in parent if child.tag == "a"]:
                address = shown_address(link.get("href", ""))
                if address is None:
                    continue
                text = "".join(link.itertext()).strip()
                if ADDRESS_LIKE.match(text) or text == address:
                    for child in list(link):
                        link.remove(child)
                    link.text = None
                    ltr_span(link, 0, text)
                    continue
                position = list(parent).index(link)
                tail, link.tail = link.tail, " ("
                span = ltr_span(parent, position + 1, address)
                span.tail = ")" + (tail or "")


class NestHeadings(Treeprocessor):
    """Shift the body's headings so that its highest one becomes an <h3>."""

    def run(self, root: Element) -> None:
        headings = [element for element in root.iter() if HEADING.fullmatch(element.tag)]
        if not headings:
            return
        shift = TOP_HEADING_LEVEL - min(int(element.tag[1]) for element in headings)
        for element in headings:
            element.tag = f"h{min(max(int(element.tag[1]) + shift, TOP_HEADING_LEVEL), 6)}"


class GuidanceExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.treeprocessors.register(NestHeadings(md), "nest_headings", 5)
        md.treeprocessors.register(ShowLinkAddresses(md), "show_link_addresses", 4)


@lru_cache(maxsize=1024)
def render_markdown(text: str) -> SafeString:
    """The sanitised HTML of a piece's Markdown. It depends on the text alone, and the
    library's texts are few and shown again and again (the workspace renders its
    matched guidance on every view), so each is rendered once per process."""
    html = markdown.markdown(
        text or "", extensions=["sane_lists", GuidanceExtension()], output_format="html"
    )
    return mark_safe(cleaner.clean(html))  # noqa: S308 - sanitised just above
