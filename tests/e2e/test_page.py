"""How the page behaves beyond the list operations: no reload on toggle with JavaScript,
keyboard-only use, a phone-sized screen, labelled fields, and error pages that look
like the app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .ui import ADD_LABEL, App, screenshot


def test_toggle_with_javascript_does_not_reload(app: App, js_page, unique):
    page = js_page
    name = f"no reload {unique}"
    app.open(page)
    app.add(page, name)
    page.evaluate("window.__marker = 'still the same page'")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    with page.expect_response(re.compile(r"/todos/\d+/toggle$")) as toggled:
        app.toggle(page, name).click()
    assert toggled.value.status == 200
    assert toggled.value.headers["content-type"].startswith("application/json")
    expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))
    expect(app.counter(page)).to_have_text("0 items left")
    assert page.evaluate("window.__marker") == "still the same page"
    assert navigations == []
    # The change was saved: a new load shows it.
    page.reload()
    expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))


def test_clear_completed_appears_after_an_in_place_toggle(app: App, js_page, unique):
    """The counter and the bulk controls follow an in-place toggle (no reload)."""
    page = js_page
    name = f"in-place {unique}"
    app.open(page)
    app.add(page, name)
    app.toggle(page, name).click()
    expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))
    expect(page.get_by_role("button", name=re.compile(r"^Clear completed"))).to_be_visible(timeout=2000)
    expect(page.get_by_role("button", name="Mark all as active")).to_be_visible(timeout=2000)
    expect(page.locator(".todo-count")).to_have_text("0 items left")


def _tab_to(page, predicate_js: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate_js):
            return
    raise AssertionError(f"Tab never reached the element ({predicate_js})")


FOCUSED_NAME = """() => {
    const el = document.activeElement;
    const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
    return (el.getAttribute("aria-label") || label || el.textContent).replace(/\\s+/g, " ").trim();
}"""


def test_keyboard_only(app: App, page, unique):
    """Tab to the add field, type, Enter; then Tab to the item's toggle and press Space."""
    name = f"typed with the keyboard {unique}"
    app.open(page)
    # On load the add field already has the focus (autofocus)...
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    # ...and from the top of the page (a click on the empty margin puts the start of
    # Tab navigation there) Tab goes through the skip link, the header and the list
    # switcher to the add field, in reading order.
    page.mouse.click(1, 1)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused
    stops = []
    for _ in range(7):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED_NAME))
    assert stops == ["todos", "Lists", "Account", "Log out", "My list", "Manage lists", ADD_LABEL]
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    # The skip link skips the header: the next Tab after it is in the content.
    page.mouse.click(1, 1)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_NAME) == "My list"
    _tab_to(page, "document.activeElement.id === 'new-todo'")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(app.item(page, name)).to_have_count(1)
    # After the add, focus is back in the add field, ready for the next item.
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    _tab_to(page, "document.activeElement.classList.contains('toggle')")
    page.keyboard.press("Space")
    expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))


def test_focus_is_visible(app: App, person, js_page, unique):
    """A keyboard user can see where they are: focused controls get an outline."""
    page = js_page
    app.create(person, [f"focus ring {unique}"])
    app.open(page)
    page.mouse.click(1, 1)
    _tab_to(page, "document.activeElement.classList.contains('toggle')")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_phone_viewport_has_no_horizontal_scroll(app: App, person, new_context, unique, javascript):
    app.create(person, [f"phone {unique}", "w" * 100, f"{'long words ' * 9}{unique}"[:100]])
    app.create(person, [f"done on the phone {unique}"], completed=True)
    context = new_context(
        javascript=javascript, person=person, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    app.open(page)
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths
    for selector in ("li.todo", ".add-form", ".list-footer"):
        boxes = page.locator(selector).evaluate_all("els => els.map(e => e.getBoundingClientRect().right)")
        assert max(boxes) <= 375, (selector, boxes)
    # One layout for every row, however long its name: the toggle, the Rename
    # control and the delete button each in one column, on the row's one line.
    for control in (".toggle", ".rename-link", ".delete"):
        lefts = page.locator(f"li.todo {control}").evaluate_all(
            "els => els.map(e => Math.round(e.getBoundingClientRect().left))"
        )
        assert len(set(lefts)) == 1, (control, lefts)
    middles = page.locator("li.todo").evaluate_all(
        """rows => rows.map(row => ['.toggle', '.rename-link', '.delete'].map(s => {
            const box = row.querySelector(s).getBoundingClientRect();
            return Math.round(box.top + box.height / 2);
        }))"""
    )
    assert all(len(set(row)) == 1 for row in middles), middles
    screenshot(page, f"list-375-{'js' if javascript else 'nojs'}-long-names")


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter(el => !el.hidden)  // not rendered, not in the accessibility tree (a password manager's hint)
    .filter(el => {
        const byLabel = el.labels && [...el.labels].some(l => l.textContent.trim());
        const named = (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || '').trim();
        const text = el.tagName === 'BUTTON' && el.textContent.trim();
        return !(byLabel || named || text);
    })
    .map(el => el.outerHTML.slice(0, 120))"""


def _assert_every_field_is_labelled(page) -> None:
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


def _no_horizontal_scroll(page, path: str) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], (path, widths)


def test_phone_viewport_other_pages(app: App, new_context, unique):
    """The log-in, sign-up, lists and account pages fit a phone too, with the
    longest username and a list name of one 100-character word."""
    person = app.sign_up(username=("e2e-phone-" + unique + "x" * 40)[:40])
    app.create_list(person, "w" * 100)
    app.create(person, [f"on the phone {unique}"])
    phone = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
    visitor = new_context(**phone).new_page()
    for path in ("/login", "/signup"):
        app.open(visitor, path)
        _no_horizontal_scroll(visitor, path)
    page = new_context(person=person, **phone).new_page()
    for path in ("/", f"/lists/{person.lists['w' * 100]}", "/lists", "/account"):
        app.open(page, path)
        _no_horizontal_scroll(page, path)
    page.get_by_label("New token for").select_option(label="w" * 100)
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("table", name="Your API tokens")).to_contain_text("w" * 100)
    _no_horizontal_scroll(page, "/account/tokens")
    screenshot(page, "account-375-new-token")


def test_every_field_and_button_has_a_label(app: App, person, js_page, unique):
    page = js_page
    [item_id] = app.create(person, [f"labelled {unique}"])
    app.create(person, [f"labelled done {unique}"], completed=True)
    app.open(page)
    _assert_every_field_is_labelled(page)
    # Found by their labels, as a screen reader user would.
    expect(page.get_by_role("textbox", name=ADD_LABEL)).to_have_count(1)
    # With JavaScript the Rename link opens the editor in place: a button.
    expect(page.get_by_role("button", name=f"Rename labelled {unique}")).to_have_count(1)
    expect(page.get_by_role("button", name="Add")).to_have_count(1)
    expect(page.get_by_role("button", name=f"Not complete: labelled {unique}")).to_have_count(1)
    expect(page.get_by_role("button", name=f"Completed: labelled done {unique}")).to_have_count(1)
    expect(page.get_by_role("list", name="Items")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Your lists")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Account")).to_have_count(1)
    page.get_by_role("button", name=f"Rename labelled {unique}").click()
    _assert_every_field_is_labelled(page)
    expect(page.get_by_role("textbox", name=f"New name for “labelled {unique}”")).to_have_count(1)
    page.keyboard.press("Escape")
    app.open(page, f"/todos/{item_id}/edit")  # the rename page, for JavaScript off
    _assert_every_field_is_labelled(page)
    expect(page.get_by_role("textbox", name=f"New name for “labelled {unique}”")).to_have_count(1)


def test_login_and_signup_fields_are_labelled(app: App, new_context):
    page = new_context().new_page()
    app.open(page, "/login")
    _assert_every_field_is_labelled(page)
    expect(page.get_by_role("textbox", name="Username")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password")).to_have_attribute("autocomplete", "current-password")
    expect(page.get_by_role("button", name="Log in")).to_have_count(1)
    app.open(page, "/signup")
    _assert_every_field_is_labelled(page)
    # The rules are said next to the fields, not only after a refusal.
    expect(page.get_by_role("textbox", name="Username")).to_have_accessible_description(re.compile("3 to 40"))
    expect(page.get_by_label("Password")).to_have_accessible_description(re.compile("At least 8 characters"))
    expect(page.get_by_label("Password")).to_have_attribute("autocomplete", "new-password")
    expect(page.get_by_role("button", name="Sign up")).to_have_count(1)


def test_lists_and_account_fields_are_labelled(app: App, person, js_page, unique):
    page = js_page
    plans = f"plans {unique}"
    app.create_list(person, plans)
    app.open(page, "/lists")
    _assert_every_field_is_labelled(page)
    for name in ("My list", plans):
        expect(page.get_by_role("textbox", name=f"Name of list “{name}”")).to_have_count(1)
        expect(page.get_by_role("button", name=f"Rename “{name}”")).to_have_count(1)
        expect(page.get_by_role("button", name=f"Delete “{name}” and its 0 items")).to_have_count(1)
        expect(page.get_by_role("link", name=f"Open “{name}”")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_count(1)

    app.open(page, "/account")
    _assert_every_field_is_labelled(page)
    expect(page.get_by_role("combobox", name="New token for")).to_have_count(1)
    for label in ("Current password", "New password", "Your password, to confirm"):
        expect(page.get_by_label(label, exact=True)).to_have_count(1)
    # With a new token shown, and one to revoke.
    page.get_by_role("combobox", name="New token for").select_option(label=plans)
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("status")).to_contain_text(f"Your new API token for “{plans}”")
    _assert_every_field_is_labelled(page)
    expect(page.get_by_role("textbox", name=re.compile("^Collection URL"))).to_have_count(1)
    expect(page.get_by_role("textbox", name=re.compile("^Token"))).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(f"^Revoke the token for {plans} created"))).to_have_count(1)


def _looks_like_the_app(page) -> None:
    expect(page.locator("header.site-header a.brand")).to_have_text("todos")
    expect(page.locator("footer.site-footer")).to_have_count(1)
    # The app's stylesheet is applied (the brand gets its colour from app.css).
    colour = page.locator("header.site-header a.brand").evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(184, 63, 69)", colour
    expect(page.get_by_role("link", name="Back to the list")).to_have_attribute("href", "/")
    assert "Traceback" not in page.content()


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        pytest.param("GET", "/no/such/page", 404, "Not Found", id="404"),
        pytest.param("GET", "/todos/1/toggle", 405, "Method Not Allowed", id="405"),
    ],
)
def test_error_pages_look_like_the_app(app: App, page, method, path, status, title):
    response = page.goto(app.base_url + path)
    assert response.status == status
    expect(page).to_have_title(f"{title} · Todo")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{status} · {title}")
    _looks_like_the_app(page)
    page.get_by_role("link", name="Back to the list").click()
    expect(page.get_by_label(ADD_LABEL)).to_be_visible()


def test_expired_form_is_explained_and_keeps_the_text(app: App, person, page, unique):
    """A form whose CSRF token no longer matches (here: the person logged out and in
    again in another tab, which starts a new session) is refused with a message, and
    the typed text is kept."""
    app.open(page)
    other_tab = page.context.new_page()
    app.open(other_tab)
    other_tab.get_by_role("button", name="Log out").click()
    app.log_in(other_tab, person.username, person.password)
    expect(app.switcher(other_tab)).to_be_visible()
    text = f"typed before the session changed {unique}"
    field = page.get_by_label(ADD_LABEL)
    field.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        field.press("Enter")
    assert posted.value.status == 400
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text("Reload the page and try again")
    expect(page.get_by_label(ADD_LABEL)).to_have_value(text)
    expect(app.item(page, text)).to_have_count(0)
    # Sending it again now works: the re-shown form carries a fresh token.
    page.get_by_label(ADD_LABEL).press("Enter")
    expect(app.item(page, text)).to_have_count(1)


@pytest.mark.parametrize("javascript", [False], ids=["nojs"])  # the add form has no script
def test_form_sent_after_the_session_cookie_was_lost_asks_to_log_in(app: App, person, page, unique):
    """Without its session cookie a form can't be checked nor the list shown: the
    answer is the log-in page saying why (it once was a 500), and nothing is saved."""
    app.open(page)
    page.context.clear_cookies()
    text = f"typed after the cookie went {unique}"
    field = page.get_by_label(ADD_LABEL)
    field.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        field.press("Enter")
    assert posted.value.status == 303
    expect(page).to_have_url(re.compile(r"/login\?ended=1$"))
    expect(page.get_by_role("status")).to_have_text("Your session has ended; please log in again.")
    app.log_in(page, person.username, person.password)
    expect(page.get_by_label(ADD_LABEL)).to_be_visible()
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")


def test_screenshots(app: App, new_context):
    """Not an assertion on pixels: pictures to look at after a layout change, at a
    phone's width and a laptop's (build/screenshots; the README shows some)."""
    person = app.sign_up(username="alice")  # each test stack is new: the name is free
    app.create(person, ["Buy milk", "Write the report", "Call the plumber about the kitchen sink, which leaks again"])
    app.create(person, ["Book train tickets"], completed=True)
    for width, height in ((1280, 800), (375, 740)):
        page = new_context(person=person, viewport={"width": width, "height": height}).new_page()
        app.open(page)
        path = screenshot(page, f"list-{width}", docs=True)
        assert path.stat().st_size > 1000
        # Editing an item in place (JavaScript on).
        app.rename_control(page, "Write the report").click()
        field = page.get_by_label("New name for “Write the report”")
        field.press("End")
        page.keyboard.type(" for Friday")
        screenshot(page, f"list-{width}-editing", docs=True)
        field.press("Escape")
        app.open(page, "/account")
        screenshot(page, f"account-{width}", docs=width == 375)
