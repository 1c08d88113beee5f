"""Guidance bodies are Markdown written by coordinators; this is the one place that turns
them into HTML. Markdown passes raw HTML through, so its output goes through nh3 (the
ammonia sanitiser) with a small allow-list before anything is marked safe."""

from __future__ import annotations

import re
from functools import lru_cache
from xml.etree.ElementTree import Element

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "blockquote", "code", "pre", "hr",
}  # fmt: skip
HEADING = re.compile(r"h[1-6]")
# A body sits under the page's <h1> and the piece's own <h2> title.
TOP_HEADING_LEVEL = 3
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def same_site_only(url: str) -> str | None:
    # Relative links may point within Haven ("/guide/friend/", "#top"), but "//host"
    # is another origin in disguise.
    if url.startswith("#") or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


cleaner = nh3.Cleaner(
    tags=TAGS,
    clean_content_tags={"script", "style"},
    attributes=ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    url_relative=same_site_only,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


class NestHeadings(Treeprocessor):
    """Shift the body's headings so that its highest one becomes an <h3>."""

    def run(self, root: Element) -> None:
        headings = [element for element in root.iter() if HEADING.fullmatch(element.tag)]
        if not headings:
            return
        shift = TOP_HEADING_LEVEL - min(int(element.tag[1]) for element in headings)
        for element in headings:
            element.tag = f"h{min(max(int(element.tag[1]) + shift, TOP_HEADING_LEVEL), 6)}"


class NestHeadingsExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.treeprocessors.register(NestHeadings(md), "nest_headings", 5)


@lru_cache(maxsize=1024)
def render_markdown(text: str) -> SafeString:
    """The sanitised HTML of a piece's Markdown. It depends on the text alone, and the
    library's texts are few and shown again and again (the workspace renders its
    matched guidance on every view), so each is rendered once per process."""
    html = markdown.markdown(
        text or "", extensions=["sane_lists", NestHeadingsExtension()], output_format="html"
    )
    return mark_safe(cleaner.clean(html))  # noqa: S308 - sanitised just above
