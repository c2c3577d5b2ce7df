"""The console in a real browser (Debian's Chromium, driven by Playwright) against the real stack.

One stack for the module (Azurite, the AC emulator, function_app in the stand-in host, which serves the API and
the built console at /api/console/) and one browser.  The journey: an admin adds a connection (Connect verifies
the key), a contributor creates an export with the pickers, runs it and watches it finish, downloads the report,
and a viewer sees the run but no button.  Then the API's field errors (a wrong hostname, a missing consent, an
unknown list) are shown at their fields.  axe-core runs on every page (no serious or critical violation), and
the main pages are saved (to docs/screenshots/ for the README with `make screenshots`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from local.azurite import REPO_ROOT, azurite
from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, running_stack
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM: Final = Path("/usr/bin/chromium")
AXE: Final = REPO_ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
DIST: Final = REPO_ROOT / "console" / "dist" / "index.html"
# Every run takes the screenshots; `make screenshots` writes them to docs/screenshots/ (the README's), other runs
# to the git-ignored .local/ so that a test run leaves the working tree clean.
SCREENSHOTS: Final = Path(os.environ.get("CONSOLE_SCREENSHOTS") or REPO_ROOT / ".local" / "screenshots")
# Without the background-networking flags Chromium keeps calling out to a network that is not there.
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROFILES: Final = 1200
FLIGHT_PROFILES: Final = 10_000
WAIT_MS: Final = 30_000
# A loaded 2-core CI machine renders slower than Playwright's 5 s default: assertions wait up to 20 s (they pass
# as soon as the page shows what they expect; nothing here measures time).
expect.set_options(timeout=20_000)
BAD_IMPACTS: Final = ("serious", "critical")
# Fluent's focus management (Tabster) puts aria-hidden focus sentinels (<i tabindex=0 data-tabster-dummy>) around
# focus groups; they forward focus at once and are the only thing axe's aria-hidden-focus rule would flag.
AXE_RUN: Final = """async () => (await axe.run({exclude: ["[data-tabster-dummy]"]}, {resultTypes: ["violations"]}))
    .violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    assert DIST.is_file(), "the console is not built: run `make console` (make test does)"
    async with running_stack(azurite().start(), tmp_path_factory.mktemp("console")) as live:
        await live.write_sample(SampleOptions(profiles=PROFILES, partitions=2))
        live.emulator.state.add_field("Loyalty tier", "text", "TIER")  # for the custom field picker
        yield live


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), "Debian's Chromium is missing: make test installs it (apt-get install chromium)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def hanging(stack: Stack) -> bool:
    """A bulk import is being held by the emulator (stall_bulk_after)."""
    return bool((await stack.inspect("faults"))["stalled"])


def textbox(page: Page, name: str) -> Any:
    return page.get_by_role("textbox", name=name, exact=True)


async def expect_field_error(control: Any, message: str) -> None:
    """The API's message is at the field: the control is invalid and described by it (Fluent's Field wires
    aria-invalid and aria-describedby to its validation message)."""
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_have_accessible_description(re.compile(re.escape(message)))


class Console:
    """One signed-in browser context, with the checks every page gets."""

    def __init__(self, context: BrowserContext, page: Page, base: str, checked: list[str]) -> None:
        self.context, self.page, self.base, self.checked = context, page, base, checked

    async def goto(self, path: str = "") -> None:
        await self.page.goto(self.base + path)

    async def check(self, name: str, *, screenshot: bool = False) -> None:
        """axe-core on the page as it is: no serious or critical violation; optionally a screenshot."""
        await self.page.wait_for_load_state("networkidle")
        await self.page.add_script_tag(path=str(AXE))
        violations: list[dict[str, Any]] = await self.page.evaluate(AXE_RUN)
        bad = [v for v in violations if v["impact"] in BAD_IMPACTS]
        assert bad == [], f"axe on {name}: {bad}"
        self.checked.append(name)
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    async def pick(self, label: str, option: str) -> None:
        await self.page.get_by_role("combobox", name=label).click()
        await self.page.get_by_role("option", name=option, exact=True).click()

    async def add_attribute(self, kind: str) -> None:
        """Open "Add attribute" and choose `kind`; its row must appear (a first click may only close the
        listbox the previous pick left open, so the menu is opened again until the row is there)."""
        row = self.page.get_by_role("group", name=kind, exact=True)
        before = await row.count()
        for _ in range(3):
            await self.button("Add attribute").click()
            item = self.page.get_by_role("menuitem", name=kind)
            try:
                await item.click(timeout=5000)
                await expect(row).to_have_count(before + 1, timeout=5000)
                return
            except (PlaywrightTimeoutError, AssertionError):
                await self.page.keyboard.press("Escape")
        await expect(row).to_have_count(before + 1)

    async def pick_many(self, label: str, *options: str) -> None:
        """A multiselect combobox: its options are checkable menu items; Escape closes it."""
        await self.page.get_by_role("combobox", name=label).click()
        for option in options:
            await self.page.get_by_role("menuitemcheckbox", name=option, exact=True).click()
        await self.page.keyboard.press("Escape")

    async def close(self) -> None:
        await self.context.close()


ROLES: Final = ("Admin", "Contributor", "Viewer")


async def sign_in(
    browser: Browser, stack: Stack, checked: list[str], name: str, role: str, *, keyboard: bool = False
) -> Console:
    """The local sign-in picker: the app allows it here (local development) and answers /api/me accordingly.
    With `keyboard`, only keys are used: Tab to the name, the arrows in the role group, Enter on the button."""
    assert stack.host.http_url is not None
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True, locale="en-GB"
    )
    page = await context.new_page()
    console = Console(context, page, f"{stack.host.http_url}/api/console", checked)
    await console.goto("/")
    await expect(page.get_by_role("heading", name="Sign in (local development)")).to_be_visible()
    await console.check("sign-in", screenshot=role == "Admin")
    if keyboard:
        await page.keyboard.press("Tab")
        await expect(textbox(page, "Name")).to_be_focused()
        await page.keyboard.type(name)
        await page.keyboard.press("Tab")  # into the role group, on the checked role (Admin)
        for _ in range(ROLES.index(role)):
            await page.keyboard.press("ArrowDown")
        await expect(page.get_by_role("radio", name=role, exact=False)).to_be_checked()
        await page.keyboard.press("Tab")
        await expect(console.button("Sign in")).to_be_focused()
        await page.keyboard.press("Enter")
    else:
        await textbox(page, "Name").fill(name)
        await page.get_by_role("radio", name=role, exact=False).check()
        await console.button("Sign in").click()
    await expect(page.get_by_test_id("signed-in-as")).to_have_text(f"{name} ({role})")
    return console


async def test_the_journey_from_connection_to_report_and_what_a_viewer_sees(stack: Stack, browser: Browser) -> None:
    checked: list[str] = []
    emulator_url = stack.emulator.url

    # 1. an admin adds a connection: Connect verifies the key and shows the account user, then Save
    admin = await sign_in(browser, stack, checked, "alice", "Admin")
    page = admin.page
    await page.get_by_role("tab", name="Connections").click()
    await admin.button("Add connection").click()
    await textbox(page, "Name").fill("ac")
    await textbox(page, "Display name").fill("Marketing account")
    await page.get_by_role("radio", name="Admins and contributors").check()
    await textbox(page, "REST endpoint hostname").fill(f"{emulator_url}/")  # a pasted URL
    await page.get_by_label(re.compile("^API key")).fill(stack.emulator.api_key)
    await page.get_by_role("checkbox", name="I agree").check()
    await admin.button("Connect").click()
    await expect(page.get_by_test_id("connected")).to_contain_text("it belongs to user admin")
    await expect(textbox(page, "REST endpoint hostname")).to_have_value(emulator_url.removeprefix("http://"))
    await admin.check("connection-form", screenshot=True)
    await admin.button("Save").click()
    row = page.get_by_role("row", name="ac Marketing account")
    await expect(row).to_contain_text("Admins and contributors")
    await expect(row).to_contain_text("Agreed by alice")
    await admin.check("connections", screenshot=True)
    status, saved = await stack.call("GET", "/connections/ac")
    assert status == 200 and saved["exportUser"]["name"] == "alice" and saved["consent"]["by"]["name"] == "alice"

    # 2. a contributor creates an export with the pickers (lists from AC, segments and attributes from model.json)
    carol = await sign_in(browser, stack, checked, "carol", "Contributor")
    page = carol.page
    await expect(page.get_by_role("tab", name="Connections")).to_be_visible()
    await carol.button("Add export").click()
    await textbox(page, "Name").fill("active-customers")
    await expect(page.get_by_role("combobox", name="Connection")).to_have_text("Marketing account")
    await carol.pick("ActiveCampaign list", "Email Subscription (1)")
    await carol.pick_many("Segments", "ActiveCustomers")
    await carol.pick("Email", "Email")
    for label, attribute in (("First name", "FirstName"), ("Last name", "LastName"), ("Phone", "Phone")):
        await carol.add_attribute(label)
        await carol.pick(f"{label}: attribute", attribute)
    await carol.add_attribute("Custom field")
    await carol.pick("Custom field: attribute", "Tier")
    await carol.pick("ActiveCampaign field", "Loyalty tier (1)")
    await textbox(page, "Tags").fill("from-console")
    await page.get_by_role("radio", name="On a schedule (cron, UTC)").check()
    await textbox(page, "Cron expression").fill("30 6 * * 1-5")
    await expect(page.get_by_text("At 06:30, Monday through Friday (UTC)")).to_be_visible()
    await page.get_by_role("radio", name="Manual only").check()
    await carol.check("export-form", screenshot=True)
    await carol.button("Save").click()
    await expect(page.get_by_role("heading", name="Export active-customers")).to_be_visible()
    status, export = await stack.call("GET", "/exports/active-customers")
    assert status == 200
    assert export["mapping"] == {
        "email": "Email",
        "firstName": "FirstName",
        "lastName": "LastName",
        "phone": "Phone",
        "customFields": [{"attribute": "Tier", "field": "1"}],
    }
    assert (export["listId"], export["segments"], export["tags"]) == (1, ["ActiveCustomers"], ["from-console"])
    assert (export["schedule"], export["createdBy"]["name"]) == ("manual", "carol")

    # 3. runs it and watches it on the live page (it polls: no reload): held mid-send by the emulator (bulk
    # imports after the second hang), the run shows what it is doing and the time left; released, it finishes
    await carol.button("Run now").click()
    await carol.check("start-run")
    stack.emulator.patch_config({"stall_bulk_after": 2})
    await carol.button("Start run").click()
    await expect(page.get_by_role("heading", name="Run of active-customers")).to_be_visible()

    await eventually(lambda: hanging(stack), timeout=WAIT_MS / 1000)
    await expect(page.get_by_test_id("run-status")).to_have_text("Sending")
    await expect(page.get_by_test_id("time-left")).to_have_text(re.compile(r"^\d+(\.\d)? s$"))
    await expect(carol.button("Cancel run")).to_be_visible()
    await expect(carol.button("Download report")).to_have_count(0)
    await carol.check("run-live", screenshot=True)
    stack.emulator.patch_config({"stall_bulk_after": None})
    await expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=WAIT_MS)
    run_id = page.url.rsplit("/", 1)[-1]
    status, run = await stack.call("GET", f"/exports/active-customers/runs/{run_id}")
    assert status == 200 and run["status"] == "Succeeded"
    assert run["samples"] and run["samples"][-1]["confirmed"] == run["counts"]["confirmed"] > 0
    await expect(page.get_by_test_id("count-Confirmed")).to_have_text(f"{run['counts']['confirmed']:,}")
    await expect(page.get_by_test_id("count-Profiles read")).to_have_text(f"{run['counts']['profilesRead']:,}")
    await expect(page.get_by_role("progressbar")).to_be_visible()
    await carol.check("run", screenshot=True)

    # 4. downloads the per-row report (invalid and duplicate rows with reasons)
    async with page.expect_download() as download_info:
        await carol.button("Download report").click()
    download = await download_info.value
    report = list(csv.DictReader(io.StringIO(Path(str(await download.path())).read_text())))
    assert download.suggested_filename == f"active-customers-{run_id}-report.csv"
    assert report == await stack.report("active-customers", run_id) != []
    await page.get_by_role("link", name="active-customers").click()
    await expect(page.get_by_role("table", name="Runs")).to_contain_text("Succeeded")
    await carol.check("export", screenshot=True)
    await page.get_by_role("tab", name="Exports").click()
    await expect(page.get_by_role("table", name="Exports")).to_contain_text("Succeeded")
    await carol.check("exports", screenshot=True)

    # 5. a viewer (signed in with the keyboard alone) sees the export and the run, and no button that would only
    # get a 403
    victor = await sign_in(browser, stack, checked, "victor", "Viewer", keyboard=True)
    page = victor.page
    await expect(page.get_by_role("table", name="Exports")).to_contain_text("Succeeded")
    await expect(page.get_by_role("tab", name="Connections")).to_have_count(0)
    await expect(victor.button("Add export")).to_have_count(0)
    await victor.check("exports-viewer")
    await page.get_by_role("link", name="active-customers").click()
    await expect(page.get_by_role("table", name="Runs")).to_contain_text("Succeeded")
    for hidden in ("Run now", "Edit", "Delete"):
        await expect(victor.button(hidden)).to_have_count(0)
    await victor.check("export-viewer")
    await page.get_by_role("table", name="Runs").get_by_role("link").first.click()
    await expect(page.get_by_test_id("run-status")).to_have_text("Succeeded")
    for hidden in ("Download report", "Cancel run"):
        await expect(victor.button(hidden)).to_have_count(0)
    await victor.check("run-viewer")

    for console in (admin, carol, victor):
        await console.close()
    assert set(checked) >= {"sign-in", "connections", "connection-form", "export-form", "run", "export", "exports"}


async def test_the_apis_field_errors_are_shown_at_their_fields(stack: Stack, browser: Browser) -> None:
    checked: list[str] = []
    await stack.connect("errors-ac")  # usable by contributors, made over the API
    admin = await sign_in(browser, stack, checked, "alice", "Admin")
    page = admin.page

    # a wrong hostname: Connect's 400 names `hostname`, shown under that field
    await admin.goto("/connections/new")
    await textbox(page, "Name").fill("wrong")
    await textbox(page, "Display name").fill("Wrong")
    await textbox(page, "REST endpoint hostname").fill("10.1.2.3")
    await page.get_by_label(re.compile("^API key")).fill(stack.emulator.api_key)
    await admin.button("Connect").click()
    await expect_field_error(textbox(page, "REST endpoint hostname"), "must be a DNS name, not an IP address")
    await admin.check("connection-form-errors", screenshot=True)

    # a missing consent: Save's 400 names `consent`, shown at the "I agree" box (and nothing is saved)
    await textbox(page, "REST endpoint hostname").fill(stack.emulator.url)
    await admin.button("Connect").click()
    await expect(page.get_by_test_id("connected")).to_be_visible()
    await admin.button("Save").click()
    await expect_field_error(
        page.get_by_role("checkbox", name="I agree"), "must be true: accept the data-privacy statement"
    )
    status, _ = await stack.call("GET", "/connections/wrong")
    assert status == 404

    # an unknown list: the export's 400 names `listId`, shown under the list picker
    await admin.goto("/exports/new")
    await textbox(page, "Name").fill("unknown-list")
    await page.get_by_role("combobox", name="Connection").click()
    await page.get_by_role("option", name="ActiveCampaign (", exact=False).first.click()
    await page.get_by_role("combobox", name="ActiveCampaign list").fill("999")
    await admin.pick_many("Segments", "ActiveCustomers")
    await admin.pick("Email", "Email")
    await admin.button("Save").click()
    await expect_field_error(
        page.get_by_role("combobox", name="ActiveCampaign list"), "list 999 does not exist in ActiveCampaign account"
    )
    await admin.check("export-form-errors")
    status, _ = await stack.call("GET", "/exports/unknown-list")
    assert status == 404
    await admin.close()


async def test_cancel_and_delete_call_the_api_and_say_what_happens_to_a_run_in_flight(
    stack: Stack, browser: Browser
) -> None:
    checked: list[str] = []
    await stack.connect("flight-ac")
    # 25 shards of 400: more than the host runs at once, so some are still queued when the cancel comes
    await stack.write_sample(SampleOptions(profiles=FLIGHT_PROFILES, segments=("InFlight",), partitions=1, seed=7))
    await stack.create_export("in-flight", connection="flight-ac", segments=["InFlight"])
    admin = await sign_in(browser, stack, checked, "alice", "Admin")
    page = admin.page

    # Cancel: the run is held mid-send, the button asks the API, the shards not started stop: the run ends Canceled
    stack.emulator.patch_config({"stall_bulk_after": 0})
    await admin.goto("/exports/in-flight")
    await admin.button("Run now").click()
    await admin.button("Start run").click()
    await eventually(lambda: hanging(stack), timeout=WAIT_MS / 1000)
    await admin.button("Cancel run").click()
    await expect(admin.button("Cancel requested")).to_be_disabled()
    first = page.url.rsplit("/", 1)[-1]
    stack.emulator.patch_config({"stall_bulk_after": None})
    await expect(page.get_by_test_id("run-status")).to_have_text("Canceled", timeout=WAIT_MS)
    status, run = await stack.call("GET", f"/exports/in-flight/runs/{first}")
    assert (status, run["status"], run["cancelRequested"]) == (200, "Canceled", True)

    # Delete while a run is in flight: the confirmation says what happens to it, and it does
    stack.emulator.patch_config({"stall_bulk_after": 0})
    await page.get_by_role("link", name="in-flight").click()
    await admin.button("Run now").click()
    await admin.button("Start run").click()
    await eventually(lambda: hanging(stack), timeout=WAIT_MS / 1000)
    second = page.url.rsplit("/", 1)[-1]
    await page.get_by_role("link", name="in-flight").click()
    await expect(admin.button("Run now")).to_be_disabled()  # one run at a time
    export_id = await stack.export_id("in-flight")
    await admin.button("Delete").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Its run in flight (Sending")
    await expect(dialog).to_contain_text("is cancelled: its shards stop before their next batch")
    await admin.check("delete-export")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("heading", name="Exports")).to_be_visible()
    stack.emulator.patch_config({"stall_bulk_after": None})
    status, _ = await stack.call("GET", "/exports/in-flight")
    assert status == 404

    async def canceled() -> bool:  # the deleted export's runs are read under its retired id
        status, run = await stack.call("GET", f"/retired-exports/{export_id}/runs/{second}")
        return status == 200 and run["status"] == "Canceled" and run["cancelRequested"] is True

    await eventually(canceled, timeout=WAIT_MS / 1000)
    await admin.close()
