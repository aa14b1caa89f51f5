"""A new user's whole life on NumFree in one unbroken browser journey (Debian's Chromium, embedded
mode, a live daphne and worker inside a loopback-only namespace), at 1280 px and at 390 px:

sign up -> verify the address (the link from the worker's console mail) -> choose a plan (the fake
Stripe checkout) -> pick a number -> confirm the forwarding email (console mail) and phone (the
code read in the simulation panel's "texts your number sent") -> a text, an answered call and a
voicemail arrive (simulation panel) and the home page shows them -> read the thread and reply, the
reply's status updates -> play the voicemail (heard, the navigation's count drops) and delete it
after the question -> name the number and see the name in calls and texts -> export (the download
holds the name, no body) -> delete the account, and signing in fails afterwards.

Every step asserts what the page says, checks that nothing scrolls sideways at 390 px, and saves
NN-step-WIDTH.png under var/test-output/journey/ (JOURNEY_SHOTS to change), to be looked at; the
step timings are printed (pytest -s) and written to var/test-output/journey-timings-WIDTH.txt.
The number search results are checked with axe-core too (no finding of any impact).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.axe import axe_source
from tests.e2e.extension_scenario import in_namespace, server_logs
from tests.e2e.harness import CHROMIUM, ROOT, SERVER, WAIT_MS, live_server
from tests.e2e.screens import shots_folder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "new.user@example.com"
FORWARD_TO = "inbox@example.org"
RING_PHONE = "+14155550199"
ANA = "+14155550101"
BODY = "Lunch at the corner table?"
SHOTS = shots_folder("JOURNEY_SHOTS", str(ROOT / "var" / "test-output" / "journey"))
AXE_FINDINGS_JS = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
  .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`)"""
SCROLL_JS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


class Journey:
    """One browser page walking the site: each step is timed, screenshotted and checked at 390 px."""

    def __init__(self, page: Any, width: int, logs: Path, axe: str) -> None:
        self.page, self.width, self.logs, self.axe = page, width, logs, axe
        self.timings: list[tuple[str, float]] = []
        self.shots: list[Path] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self.page.screenshot(path=str(SHOTS / f"FAILED-{name}-{self.width}.png"), full_page=True)
            raise
        self.timings.append((name, time.monotonic() - started))
        self.page.wait_for_load_state()
        scroll = self.page.evaluate(SCROLL_JS)
        assert scroll <= 0, f"step {name}: {self.page.url} scrolls sideways by {scroll} px at {self.width} px"
        path = SHOTS / f"{len(self.timings):02d}-{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def main(self) -> str:
        return self.page.inner_text("main")

    def reload_until(self, text: str, seconds: float = 30, *, selector: str = "main") -> None:
        """Reload until `selector` is there and the page says `text`: the worker delivers what the
        fake Twilio reports."""
        deadline = time.monotonic() + seconds
        while self.page.query_selector(selector) is None or text not in self.main():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on {self.page.url}:\n{self.main()}")
            self.page.wait_for_timeout(500)
            self.page.reload()

    def mailed_link(self, path_prefix: str, after: int, seconds: float = 30) -> str:
        """The path of the first link to `path_prefix` in mail the worker printed (console backend)."""
        pattern = re.compile(r"https?://[^\s/]+(" + re.escape(path_prefix) + r"[^\s\"<>]+)")
        deadline = time.monotonic() + seconds
        while True:
            found = pattern.search((self.logs / "worker.log").read_bytes()[after:].decode(errors="replace"))
            if found:
                return found[1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail with a {path_prefix} link within {seconds} s")
            time.sleep(0.25)

    def submit_expecting(self, button: str, action: str, landing: str) -> None:
        """Click a form's submit button and wait for the redirect to `landing`; when the server answers
        anything else, or nothing, fail at once with what it answered and its log's tail (a bare URL
        wait only says that 30 s went by)."""
        posted = f"{SERVER}{action}"
        try:
            with self.page.expect_response(lambda r: r.url == posted and r.request.method == "POST") as answer:
                self.page.click(button)
        except Exception as exc:
            raise AssertionError(f"no answer to POST {action}: {exc}\n{self.server_log_tail()}") from exc
        status = answer.value.status
        if status != 302 or not answer.value.headers.get("location", "").endswith(landing):
            self.page.wait_for_load_state()
            raise AssertionError(f"POST {action} answered {status}:\n{self.main()}\n{self.server_log_tail()}")
        self.page.wait_for_url(f"{SERVER}{landing}")

    def server_log_tail(self, lines: int = 30) -> str:
        return "\n".join(
            f"{name}: {line}"
            for name in ("web", "worker")
            for line in (self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-lines:]
        )

    def mail_mark(self) -> int:
        return (self.logs / "worker.log").stat().st_size

    def simulate(self, event: str, sender: str, body: str = "") -> str:
        page = self.page
        page.goto(f"{SERVER}/dashboard/simulate/")
        page.select_option("select[name=event]", event)
        page.fill("input[name=sender]", sender)
        if body:
            page.fill("[name=body]", body)
        page.click("main form.stacked button[type=submit]")
        page.wait_for_load_state()
        return page.inner_text("body")

    def open_menu(self) -> None:
        """On a phone the navigation is behind the Menu button; on a desktop it is always shown."""
        if self.width < 700:
            self.page.click("#site-menu summary")

    def voicemail_badge(self) -> str:
        """The unheard count the navigation shows (in the menu button when the menu is collapsed)."""
        where = "#site-menu summary" if self.width < 700 else "nav[aria-label=Main] a[href='/dashboard/voicemail/']"
        badge = self.page.query_selector(f"{where} .badge")
        return badge.inner_text().split()[0] if badge and badge.is_visible() else ""


def _walk(page: Any, journey: Journey) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    with journey.step("signup"):
        page.goto(f"{SERVER}/signup/")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=name]", "Nora")
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        mark = journey.mail_mark()
        journey.submit_expecting("main form button[type=submit]", "/signup/", "/signup/check-email/")
        assert "Check your email" in journey.main()

    with journey.step("verify-email"):
        page.goto(SERVER + journey.mailed_link("/verify-email/", mark))
        seen["verified"] = journey.main()
        page.click("main a.button")  # Log in
        page.fill("input[name=username]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{SERVER}/dashboard/")
        seen["home_new"] = journey.main()

    with journey.step("plan"):
        page.click("main [data-step=plan] a")
        page.wait_for_url(f"{SERVER}/dashboard/billing/")
        page.click("main form[action='/dashboard/billing/checkout/'] button")  # the first plan
        page.wait_for_url("**/_fake/stripe/checkout/**")
        page.click("main form button[type=submit]")  # pay with the test card
        page.wait_for_url("**/dashboard/billing/?checkout=*")
        page.wait_for_selector("#checkout-return[data-poll-state='done']", timeout=60_000)
        seen["plan"] = page.inner_text("#checkout-return")

    with journey.step("number"):
        page.click("#checkout-return [data-poll-next] a")
        page.wait_for_url(f"{SERVER}/dashboard/number/")
        page.fill("input[name=area_code]", "415")
        page.click("main form[method=get] button[type=submit]")
        page.wait_for_selector("main table.rows")
        page.evaluate(journey.axe)
        seen["search_axe"] = page.evaluate(AXE_FINDINGS_JS)
        page.click("main table.rows tbody tr:first-child button[type=submit]")
        page.wait_for_selector("main .big-number")
        seen["number"] = journey.main()
        seen["big_number"] = page.inner_text("main .big-number")

    with journey.step("forwarding-email"):
        page.goto(f"{SERVER}/dashboard/forwarding/")
        page.fill("form[action='/dashboard/forwarding/email/'] input[name=email]", FORWARD_TO)
        mark = journey.mail_mark()
        page.click("form[action='/dashboard/forwarding/email/'] button[type=submit]")
        page.wait_for_load_state()
        page.goto(SERVER + journey.mailed_link("/dashboard/forwarding/email/", mark))
        page.wait_for_url(f"{SERVER}/dashboard/forwarding/")
        seen["email_confirmed"] = page.inner_text("body")

    with journey.step("forwarding-phone"):
        page.fill("form[action='/dashboard/forwarding/phone/'] input[name=phone]", RING_PHONE)
        page.click("form[action='/dashboard/forwarding/phone/'] button[type=submit]")
        page.wait_for_selector("form[action='/dashboard/forwarding/phone/confirm/']")
        seen["code_sent"] = page.inner_text("body")
        page.click("main a[href='/dashboard/simulate/sent/']")
        page.wait_for_url(f"{SERVER}/dashboard/simulate/sent/")
        code = re.search(r"Your NumFree code is (\d{6})", journey.main())[1]  # type: ignore[index]
        page.goto(f"{SERVER}/dashboard/forwarding/")
        page.fill("input[name=code]", code)
        page.click("form[action='/dashboard/forwarding/phone/confirm/'] button[type=submit]")
        page.wait_for_load_state()
        seen["phone_confirmed"] = page.inner_text("body")

    with journey.step("text-arrives"):
        seen["text_sent"] = journey.simulate("sms", ANA, BODY)
        page.goto(f"{SERVER}/dashboard/messages/")
        seen["conversations"] = journey.main()

    with journey.step("call-answered"):
        seen["call_sent"] = journey.simulate("call-answered", ANA)
        page.goto(f"{SERVER}/dashboard/calls/")
        journey.reload_until("answered")
        seen["calls"] = journey.main()

    with journey.step("voicemail-arrives"):
        journey.simulate("call-voicemail", ANA)
        page.goto(f"{SERVER}/dashboard/voicemail/")
        journey.reload_until("New", selector="audio[data-heard-url]")
        seen["voicemail"] = journey.main()
        seen["badge_before"] = journey.voicemail_badge()

    with journey.step("home"):
        journey.open_menu()
        page.click("nav[aria-label=Main] a[href='/dashboard/']")
        page.wait_for_url(f"{SERVER}/dashboard/")
        seen["home"] = journey.main()

    with journey.step("thread-reply"):
        page.goto(f"{SERVER}/dashboard/messages/")
        page.click(f"main a[href='/dashboard/messages/{ANA}/']")
        page.wait_for_selector("ol.thread li.text.in")
        seen["thread"] = page.inner_text("ol.thread")
        page.fill("textarea[name=body]", "Yes, see you at noon")
        page.click("form[action='/dashboard/messages/send/'] button[type=submit]")
        page.wait_for_selector("ol.thread li.text.out")
        seen["reply_first"] = page.inner_text("ol.thread li.text.out .text-status")

    with journey.step("reply-delivered"):
        # No reload: thread.js polls the statuses while the fake Twilio's callbacks arrive.
        page.wait_for_selector("ol.thread li.text.out:not([data-pending])")
        seen["reply_final"] = page.inner_text("ol.thread li.text.out .text-status")

    with journey.step("voicemail-played"):
        page.goto(f"{SERVER}/dashboard/voicemail/")
        page.evaluate("document.querySelector('audio[data-heard-url]').play().catch(() => {})")
        page.wait_for_selector("table.voicemail .badge.heard")
        page.reload()
        seen["after_play"] = journey.main()
        seen["badge_after"] = journey.voicemail_badge()

    with journey.step("voicemail-delete-question"):
        page.click("table.voicemail a.danger")
        page.wait_for_url("**/delete/")
        seen["delete_question"] = journey.main()

    with journey.step("voicemail-deleted"):
        page.click("main form button.danger")
        page.wait_for_url(f"{SERVER}/dashboard/voicemail/")
        seen["voicemail_deleted"] = page.inner_text("body")

    with journey.step("name-number"):
        page.goto(f"{SERVER}/dashboard/people/")
        page.fill("main input[name=number]", ANA)
        page.fill("main input[name=name]", "Ana Lima")
        page.click("form[action='/dashboard/people/name/'] button[type=submit]")
        page.wait_for_load_state()
        seen["people"] = journey.main()

    with journey.step("name-in-calls"):
        page.goto(f"{SERVER}/dashboard/calls/")
        seen["calls_named"] = journey.main()

    with journey.step("name-in-texts"):
        page.goto(f"{SERVER}/dashboard/messages/")
        seen["texts_named"] = journey.main()

    with journey.step("export"):
        page.goto(f"{SERVER}/privacy/center/")
        page.click("form[action='/privacy/center/export/'] button[type=submit]")
        page.wait_for_selector("main a[href$='/download/']", timeout=60_000)  # the page refreshes itself
        seen["export_page"] = journey.main()
        with page.expect_download() as download:
            page.click("main a[href$='/download/']")
        archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
        seen["export_files"] = sorted(archive.namelist())
        seen["export_text"] = "\n".join(archive.read(name).decode(errors="replace") for name in archive.namelist())

    with journey.step("delete-account-question"):
        page.goto(f"{SERVER}/privacy/center/")
        page.click("main a[href='/privacy/center/delete/']")
        page.wait_for_url(f"{SERVER}/privacy/center/delete/")
        seen["delete_account_question"] = journey.main()

    with journey.step("account-deleted"):
        page.fill("main input[name=password]", PASSWORD)
        page.click("main form button.danger")
        page.wait_for_load_state()
        seen["account_deleted"] = journey.main()

    with journey.step("sign-in-fails"):
        page.goto(f"{SERVER}/login/")
        page.fill("input[name=username]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        seen["sign_in_after"] = journey.main()
        seen["url_after"] = page.url
    return seen


def _timing_table(width: int, timings: list[tuple[str, float]]) -> str:
    lines = [f"journey at {width} px", f"{'step':<28}{'seconds':>8}"]
    lines += [f"{number:02d} {name:<25}{seconds:>8.1f}" for number, (name, seconds) in enumerate(timings, 1)]
    lines.append(f"{'total':<28}{sum(seconds for _, seconds in timings):>8.1f}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_user_walks_from_sign_up_to_deleting_the_account(subprocess_env, tmp_path, width: int) -> None:
    env = {**subprocess_env, "NUMFREE_DATA_DIR": str(tmp_path / "data"), "DEBUG": "1", "NUMFREE_PUBLIC_URL": SERVER}
    logs = server_logs(tmp_path)
    axe = axe_source()

    def scenario() -> tuple[dict[str, Any], list[tuple[str, float]], list[Path]]:
        from playwright.sync_api import sync_playwright

        with live_server(env, logs), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": width, "height": 900}, timezone_id="America/Los_Angeles")
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            journey = Journey(page, width, logs, axe)
            try:
                seen = _walk(page, journey)
            finally:
                table = _timing_table(width, journey.timings)
                (SHOTS.parent / f"journey-timings-{width}.txt").write_text(table)
                print("\n" + table)
            seen["errors"] = errors
            browser.close()
        return seen, journey.timings, journey.shots

    seen, timings, shots = in_namespace(scenario, env)

    assert "confirmed" in seen["verified"].lower()
    assert "Get set up" in seen["home_new"] and "Choose a plan" in seen["home_new"]
    assert "plan is active" in seen["plan"]
    assert re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", seen["big_number"].strip()), seen["big_number"]
    assert seen["search_axe"] == []  # the search results' table too: every header cell has text
    assert "Release this number" in seen["number"] and "Set up forwarding" in seen["number"]
    assert "Confirmed: your texts are now forwarded to that address." in seen["email_confirmed"]
    assert FORWARD_TO in seen["email_confirmed"]
    assert "We texted a six-digit code" in seen["code_sent"]
    assert "Confirmed: calls to your NumFree number now ring that phone." in seen["phone_confirmed"]
    assert "(415) 555-0199" in seen["phone_confirmed"]
    assert "(415) 555-0101" in seen["conversations"] and "1 unread" in seen["conversations"]
    assert BODY not in seen["conversations"]
    assert "your forwarding phone answered it" in seen["call_sent"]
    assert "answered" in seen["calls"] and "(415) 555-0101" in seen["calls"]
    assert "New" in seen["voicemail"] and seen["badge_before"] == "1"
    number = seen["big_number"].strip()
    assert f"Your NumFree number\n{number}" in seen["home"] and "1 unheard" in seen["home"]
    assert "Get your NumFree number" not in seen["home"] and f"Your number is {number}." in seen["home"]
    assert "Latest calls" in seen["home"] and "From (415) 555-0101" in seen["home"]
    assert seen["home"].index("Latest calls") < seen["home"].index("Get set up")  # the day's news first
    assert "Received" in seen["thread"] and "PST" in seen["thread"] and BODY not in seen["thread"]
    assert "Sent" in seen["reply_first"] or "Queued" in seen["reply_first"], seen["reply_first"]
    assert seen["reply_final"] == "Delivered"
    assert "No new voicemail" in seen["after_play"] and seen["badge_after"] == ""
    assert "cannot be brought back" in seen["delete_question"]
    assert "Voicemail deleted." in seen["voicemail_deleted"]
    assert "Ana Lima" in seen["people"] and "(415) 555-0101" in seen["people"]
    assert "Ana Lima" in seen["calls_named"] and "Ana Lima" in seen["texts_named"]
    assert "Your export is ready" in seen["export_page"]
    assert "PST;" in seen["export_page"] and "UTC" not in seen["export_page"]  # the expiry, in the user's zone
    assert "manifest.json" in seen["export_files"]
    assert "Ana Lima" in seen["export_text"] and BODY not in seen["export_text"]
    assert "Yes, see you at noon" not in seen["export_text"]
    assert "deleted" in seen["account_deleted"].lower()
    assert "do not match an account" in seen["sign_in_after"] and seen["url_after"].endswith("/login/")
    assert seen["errors"] == []
    assert len(shots) == len(timings) and all(path.stat().st_size > 0 for path in shots)
