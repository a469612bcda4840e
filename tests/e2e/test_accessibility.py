"""Accessibility checked by machine on every page and state, with JavaScript on and
off: axe-core's WCAG 2.2 AA rules with no violation, the non-text contrast axe does
not measure (WCAG 1.4.11: what shows a control, against what is behind it), and what
every page carries (a description, an icon).

axe is a script itself, and Chromium runs none in a page whose JavaScript is off; so
the "JavaScript off" run keeps it on but blocks the page's only script (app.js): what
axe sees is then exactly the server's HTML, every form posting and redirecting as it
does without JavaScript."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from .ui import ADD_LABEL, TIMEOUT, App

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations.map(v =>
        `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


class Audit:
    """Runs axe on the page as it is now and keeps what it found, per state."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.found: dict[str, list[str]] = {}

    def __call__(self, page, state: str) -> None:
        page.wait_for_load_state()
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)  # through the DevTools protocol: the page's CSP does not apply
        self.found[state] = page.evaluate(RUN_AXE, WCAG_22_AA)
        # Every page: its own description, the app's icon, one h1 (axe's own rule for
        # that is a best practice, not a WCAG rule).
        description = page.locator('meta[name="description"]').get_attribute("content") or ""
        assert len(description) > 20, (state, description)
        expect(page.locator('link[rel="icon"]')).to_have_attribute("href", "/static/favicon.svg")
        expect(page.get_by_role("heading", level=1)).to_have_count(1)

    def violations(self) -> dict[str, list[str]]:
        return {state: found for state, found in self.found.items() if found}


def _contexts(new_context, person, javascript: bool):
    """A visitor's context and the person's, JavaScript on, the page's script blocked for "off"."""
    contexts = [new_context(), new_context(person=person)]
    if not javascript:
        for context in contexts:
            context.route("**/static/app.js", lambda route: route.abort())
    return contexts


def _refuse_add(page, text: str) -> None:
    field = page.get_by_label(ADD_LABEL)
    field.evaluate("el => el.removeAttribute('maxlength')")
    field.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.status == 422):
        field.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("101 characters")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_axe_finds_nothing_on_any_page_or_state(app: App, new_context, axe_source, javascript, unique):
    person = app.sign_up("axe")
    visitor_context, context = _contexts(new_context, person, javascript)
    audit = Audit(axe_source)

    # A visitor: log in, sign up, their refusals, a page that does not exist.
    visitor = visitor_context.new_page()
    app.open(visitor, "/login")
    audit(visitor, "log-in")
    app.log_in(visitor, person.username, "not the password")
    expect(visitor.get_by_role("alert")).to_have_text("The username or password is wrong")
    audit(visitor, "log-in refused")
    app.open(visitor, "/login?ended=1")
    audit(visitor, "log-in, session ended")
    app.open(visitor, "/signup")
    audit(visitor, "sign-up")
    visitor.locator("form.stacked-form").evaluate("form => form.noValidate = true")
    visitor.get_by_label("Username").fill("no spaces allowed")
    visitor.get_by_label("Password").fill("short")
    visitor.get_by_role("button", name="Sign up").click()
    expect(visitor.get_by_role("alert")).to_be_visible()
    audit(visitor, "sign-up refused")
    assert visitor.goto(app.base_url + "/no/such/page").status == 404
    audit(visitor, "404, visitor")

    # The person's list: empty, with items, each filter, an empty filter.
    page = context.new_page()
    app.open(page)
    audit(page, "empty list")
    names = [f"axe {n} {unique}" for n in ("first", "second", "third")]
    ids = app.create(person, names)
    app.create(person, [f"axe done {unique}"], completed=True)
    app.open(page)
    audit(page, "list with items")
    page.set_viewport_size({"width": 375, "height": 740})
    audit(page, "list with items, 375 px")
    page.set_viewport_size({"width": 1280, "height": 800})
    app.filter_link(page, "Active").click()
    expect(app.filter_link(page, "Active")).to_have_attribute("aria-current", "page")
    audit(page, "active filter")
    app.filter_link(page, "Completed").click()
    expect(app.filter_link(page, "Completed")).to_have_attribute("aria-current", "page")
    audit(page, "completed filter")
    errands = app.create_list(person, f"errands {unique}")
    app.create(person, [f"errand {unique}"], list_id=errands)
    app.open(page, f"/lists/{errands}?status=completed")
    expect(page.locator("li.empty")).to_have_text("No completed items.")
    audit(page, "empty completed filter")

    # After changes: in place with JavaScript, after the redirect without.
    app.open(page)
    app.toggle(page, names[0]).click()
    expect(app.item(page, names[0])).to_have_class(re.compile(r"\bcompleted\b"))
    audit(page, "after a toggle")
    if javascript:
        app.rename_control(page, names[1]).click()
        expect(page.get_by_label(f"New name for “{names[1]}”")).to_be_focused()
        audit(page, "editing in place")
        page.keyboard.press("Escape")
    _refuse_add(page, (unique + "x" * 101)[:101])
    audit(page, "add refused")

    # The rename page, and a refused rename.
    app.open(page, f"/todos/{ids[1]}/edit")
    audit(page, "rename page")
    field = page.get_by_label(re.compile("^New name for"))
    field.evaluate("el => el.removeAttribute('maxlength')")
    field.fill("r" * 101)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("101 characters")
    audit(page, "rename refused")

    # Lists and account pages, with their refusals and a new token shown.
    app.open(page, "/lists")
    audit(page, "lists")
    rename = page.get_by_label("Name of list “My list”")
    rename.evaluate("el => el.removeAttribute('required')")
    rename.fill("   ")
    page.get_by_role("button", name="Rename “My list”").click()
    expect(page.get_by_role("alert")).to_have_text("The name can't be empty")
    audit(page, "lists refused")
    app.open(page, "/account")
    audit(page, "account")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("status")).to_contain_text("it is shown only once")
    audit(page, "account, new token")
    page.get_by_label("Current password", exact=True).fill("not my password")
    page.get_by_label("New password", exact=True).fill("another passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("The current password is wrong")
    audit(page, "account refused")

    # Error pages.
    for path, status in (("/no/such/page", 404), ("/lists/999999999", 404), ("/todos/1/toggle", 405)):
        assert page.goto(app.base_url + path).status == status
        audit(page, f"{status} {path}")

    assert audit.violations() == {}


# The effective colours around an element: its own, and the first opaque background
# behind it (walking up), as "r,g,b" strings.
COLOURS = """([selector, pseudo]) => {
    const el = document.querySelector(selector);
    const style = getComputedStyle(el, pseudo || null);
    // A placeholder is drawn on its own field; anything else on what holds it.
    let behind = "rgb(255, 255, 255)";
    for (let node = pseudo ? el : el.parentElement; node; node = node.parentElement) {
        const bg = getComputedStyle(node).backgroundColor;
        if (bg && bg !== "transparent" && !/rgba\\(.*, 0\\)$/.test(bg)) { behind = bg; break; }
    }
    return {color: style.color, border: style.borderTopColor, background: style.backgroundColor,
            shadow: style.boxShadow, outline: style.outlineColor, behind};
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def _contrast(one: str, two: str) -> float:
    def luminance(css: str) -> float:
        channels = [c / 255 for c in _rgb(css)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_controls_have_non_text_contrast(app: App, person, js_page, unique):
    """What shows a control has 3:1 against what is behind it, and the placeholder,
    the add field's only visible label, has the 4.5:1 of text (these once were
    1.67:1, 1.86:1 and 2.81:1)."""
    page = js_page
    app.create(person, [f"contrast {unique}"])
    app.create(person, [f"contrast done {unique}"], completed=True)
    app.open(page)

    def colours(selector: str, pseudo: str | None = None) -> dict:
        return page.evaluate(COLOURS, [selector, pseudo])

    found = {}  # what: (ratio, the least WCAG asks)
    toggle = colours(".todo:not(.completed) .toggle")
    found["unfilled toggle's border"] = (_contrast(toggle["border"], toggle["behind"]), 3)
    done = colours(".todo.completed .toggle")
    found["filled toggle"] = (_contrast(done["background"], done["behind"]), 3)
    found["the check mark on it"] = (_contrast("rgb(255, 255, 255)", done["background"]), 3)
    selected = colours(".filters a.selected")
    found["selected filter's border"] = (_contrast(selected["border"], selected["behind"]), 3)
    switcher = colours(".list-switcher a.selected")
    found["selected list's border"] = (_contrast(switcher["border"], switcher["behind"]), 3)
    field = colours("#new-todo")
    underline = re.match(r"rgba?\([^)]*\)", field["shadow"]).group(0)
    found["add field's underline"] = (_contrast(underline, field["behind"]), 3)
    placeholder = colours("#new-todo", "::placeholder")
    found["placeholder (its only visible label)"] = (_contrast(placeholder["color"], field["background"]), 4.5)
    page.get_by_label(ADD_LABEL).focus()
    page.keyboard.press("Tab")  # the focus ring is drawn for the keyboard
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    found["focus ring"] = (_contrast(ring, "rgb(255, 255, 255)"), 3)
    failing = {what: round(ratio, 2) for what, (ratio, least) in found.items() if ratio < least}
    assert failing == {}, found


def test_favicon_is_served_to_anyone(app: App):
    """The icon the pages name, and /favicon.ico for whoever asks the old way, signed in or not."""
    svg = requests.get(app.base_url + "/static/favicon.svg", timeout=TIMEOUT)
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    ico = requests.get(app.base_url + "/favicon.ico", timeout=TIMEOUT, allow_redirects=False)
    assert ico.status_code == 200
    assert ico.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
