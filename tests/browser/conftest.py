"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser)
against pytest-django's live server; axe-core, pinned in package.json, checks every
page visited. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(*, javascript: bool = True, viewport: dict | None = None, locale: str = "en"):
        context = browser.new_context(
            java_script_enabled=javascript,
            viewport=viewport or {"width": 1280, "height": 900},
            locale=locale,
        )
        context.set_default_timeout(15_000)
        context.haven_javascript = javascript
        context.haven_viewport = viewport
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(context_factory):
    return context_factory().new_page()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    # What a person sees first, without scrolling: the picture to look at.
    page.screenshot(path=str(path.with_name(path.stem + "-top.png")), full_page=False)
    return path


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page.

    axe is evaluated through the DevTools protocol, which the page's strict CSP does
    not govern, so the page under test keeps its real policy. axe needs timers, which
    do not run in a page with JavaScript disabled: such a page is checked as a copy of
    its DOM, styles included, in a JavaScript-enabled page of the same origin."""
    if not getattr(page.context, "haven_javascript", True):
        checker = page.context.browser.new_context(
            viewport=page.context.haven_viewport or {"width": 1280, "height": 900}
        )
        try:
            copy = checker.new_page()
            origin = "/".join(page.url.split("/", 3)[:3])
            copy.goto(origin + "/healthz")
            copy.set_content(page.content(), wait_until="load")
            return axe_violations(copy)
        finally:
            checker.close()
    result = page.evaluate(
        AXE.read_text()
        + "\n;axe.run(document, {resultTypes: ['violations']})"
        + ".then(r => JSON.stringify(r.violations))"
    )
    violations = json.loads(result)
    return [v for v in violations if v["impact"] in {"serious", "critical"}]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + ", ".join(n["target"][0] for n in v["nodes"][:3])
        for v in violations
    ]
    assert not violations, f"{page.url}\n" + "\n".join(summary)
