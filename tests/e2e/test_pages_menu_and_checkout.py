"""In a real browser: the phone menu opens and closes with the keyboard (a <details>, no script needed),
focus is always visible, the desktop navigation needs no click, and the checkout return page updates
by itself when Stripe's webhook makes the plan active, then offers the next step.

Headless Chromium and a live server (web + worker, so the fake Stripe's webhook is really delivered)
inside a loopback-only namespace. Screenshots of the menu closed and open at 390 px, the desktop
navigation and the checkout return page before and after go to /tmp/i1-shots/ (PAGES_SHOTS to change).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import in_namespace, server_logs
from tests.e2e.harness import CHROMIUM, SERVER, WAIT_MS, live_server
from tests.e2e.test_pages_phone import DESKTOP, PHONE, _shots
from tests.numfree.site_pages import set_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUS_JS = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return { text: element.textContent.trim().slice(0, 40), tag: element.tagName,
           current: element.getAttribute("aria-current"),
           outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 };
}"""
VISIBLE_LINKS_JS = """() => [...document.querySelectorAll('nav[aria-label="Main"] a')]
  .filter((a) => a.checkVisibility({ visibilityProperty: true })).map((a) => a.textContent.trim().split(/\\s/)[0])"""


def _log_in(page: Any, email: str) -> None:
    page.goto(f"{SERVER}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{SERVER}/dashboard/", timeout=WAIT_MS)


def _shot(page: Any, name: str) -> str:
    path = _shots() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return str(path)


def _menu_by_keyboard(page: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    page.set_viewport_size(PHONE)
    page.goto(f"{SERVER}/dashboard/calls/")
    seen["closed_links"] = page.evaluate(VISIBLE_LINKS_JS)
    seen["closed_shot"] = _shot(page, "menu-closed-390")
    page.keyboard.press("Tab")
    seen["first_focus"] = page.evaluate(FOCUS_JS)  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")  # the menu's summary
    seen["summary_focus"] = page.evaluate(FOCUS_JS)
    page.keyboard.press("Enter")
    seen["open_links"] = page.evaluate(VISIBLE_LINKS_JS)
    seen["open_shot"] = _shot(page, "menu-open-390")
    focused = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(FOCUS_JS))
    seen["in_menu"] = focused
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # on the summary again: closes
    seen["closed_again_links"] = page.evaluate(VISIBLE_LINKS_JS)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{SERVER}/dashboard/calls/")
    seen["desktop_links"] = page.evaluate(VISIBLE_LINKS_JS)
    seen["desktop_shot"] = _shot(page, "menu-desktop-1280")
    return seen


def _checkout(page: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    page.set_viewport_size(PHONE)
    page.goto(f"{SERVER}/dashboard/billing/")
    page.click("main form[action='/dashboard/billing/checkout/'] button")  # the first plan
    page.wait_for_url("**/_fake/stripe/checkout/**", timeout=WAIT_MS)
    page.click("main form button[type=submit]")  # pay with the test card
    page.wait_for_url("**/dashboard/billing/?checkout=*", timeout=WAIT_MS)
    seen["before"] = page.inner_text("#checkout-return")
    seen["polling"] = page.get_attribute("#checkout-return", "data-poll-state")
    seen["before_shot"] = _shot(page, "checkout-return-waiting-390")
    started = time.monotonic()
    page.wait_for_selector("#checkout-return[data-poll-state='done']", timeout=60_000)
    seen["seconds_to_update"] = round(time.monotonic() - started, 1)
    seen["after"] = page.inner_text("#checkout-return")
    seen["next_href"] = page.get_attribute("#checkout-return [data-poll-next] a", "href")
    seen["subscribe_visible"] = page.is_visible("text=Subscribe")
    seen["after_shot"] = _shot(page, "checkout-return-done-390")
    page.click("#checkout-return [data-poll-next] a")
    page.wait_for_url(f"{SERVER}/dashboard/number/", timeout=WAIT_MS)
    seen["number_page"] = page.inner_text("main")
    return seen


def test_the_menu_works_by_keyboard_and_the_checkout_return_page_updates_by_itself(subprocess_env, tmp_path):
    alice = make_user("alice@example.com", name="Alice")
    set_up(alice, voicemails=1)
    make_user("payer@example.com", name="Pat")
    env = {**subprocess_env, "NUMFREE_PUBLIC_URL": SERVER}  # where the fake Stripe delivers its webhook

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(env, server_logs(tmp_path)), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            _log_in(page, "alice@example.com")
            menu = _menu_by_keyboard(page)
            context.close()
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            _log_in(page, "payer@example.com")
            checkout = _checkout(page)
            browser.close()
        return {"menu": menu, "checkout": checkout}

    seen = in_namespace(scenario, env)
    menu, checkout = seen["menu"], seen["checkout"]
    # Phone: closed, the menu shows no links; opened with Enter, all of them, Calls marked current.
    assert menu["closed_links"] == []
    assert menu["first_focus"]["text"] == "Skip to content" and menu["first_focus"]["outline"]
    assert menu["summary_focus"]["tag"] == "SUMMARY" and menu["summary_focus"]["outline"]
    assert {"Home", "Calls", "Texts", "Voicemail", "Contacts", "Billing", "Privacy", "Account"} <= set(
        menu["open_links"]
    )
    assert [f["text"].split()[0] for f in menu["in_menu"][:3]] == ["Home", "Number", "Calls"]
    assert menu["in_menu"][2]["current"] == "page"
    assert all(f["outline"] for f in menu["in_menu"]), menu["in_menu"]
    assert menu["closed_again_links"] == []
    # Desktop: every section is there without opening anything.
    assert {"Home", "Calls", "Contacts", "Billing", "Privacy", "Account"} <= set(menu["desktop_links"])
    # Checkout: the page said it was waiting, then updated itself and offered the next step.
    assert "Stripe is confirming your payment" in checkout["before"] and checkout["polling"] == "polling"
    assert "plan is active" in checkout["after"]
    assert checkout["next_href"] == "/dashboard/number/"
    assert checkout["subscribe_visible"] is False
    assert "A number comes with a plan" not in checkout["number_page"]
    print(f"\ncheckout return page updated {checkout['seconds_to_update']} s after it loaded")
