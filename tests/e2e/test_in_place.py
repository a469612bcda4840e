"""With JavaScript on, the list works as TodoMVC does: every change happens in place
(no reload) with the server's own counts, an item is edited where it is, and
#/active and #/completed open the filters. The server stays the one that decides:
each answer is the list as the reader has it after the change (read-your-writes)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import ADD_LABEL, App

COMPLETED = re.compile(r"\bcompleted\b")


class _NoReload:
    """Notices any navigation or reload of the page from now on."""

    def __init__(self, page):
        self.page = page
        self.navigations: list[str] = []
        page.evaluate("window.__same_page = true")
        page.on("framenavigated", lambda frame: self.navigations.append(frame.url))

    def check(self) -> None:
        assert self.navigations == []
        assert self.page.evaluate("window.__same_page") is True


def test_every_change_happens_in_place(app: App, js_page, unique):
    page = js_page
    first, second, third = (f"in place {n} {unique}" for n in ("one", "two", "three"))
    app.open(page)
    # An empty list has nothing to mark or filter: no list controls, no footer.
    expect(page.locator(".bulk")).to_have_count(0)
    expect(page.locator(".list-footer")).to_have_count(0)
    same = _NoReload(page)

    for name in (first, second, third):
        app.add(page, name)
        expect(page.get_by_label(ADD_LABEL)).to_have_value("")
        expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    expect(app.counter(page)).to_have_text("3 items left")
    expect(page).to_have_title("(3) My list · Todo")
    expect(page.locator(".list-footer")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"Added “{third}”. 3 items left.")

    app.toggle(page, first).click()
    expect(app.item(page, first)).to_have_class(COMPLETED)
    expect(app.counter(page)).to_have_text("2 items left")
    expect(page.get_by_role("button", name="Clear completed (1)")).to_be_visible()
    app.delete_button(page, second).click()
    expect(app.item(page, second)).to_have_count(0)
    expect(app.counter(page)).to_have_text("1 item left")
    page.get_by_role("button", name="Mark all as complete").click()
    expect(app.item(page, third)).to_have_class(COMPLETED)
    expect(app.counter(page)).to_have_text("0 items left")
    expect(page).to_have_title("(0) My list · Todo")
    page.get_by_role("button", name="Clear completed (2)").click()
    expect(page.locator("li.todo")).to_have_count(0)
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")
    expect(page.locator(".list-footer")).to_have_count(0)
    # The same text twice is two items: each add in place gets a new form key (the
    # writer's Idempotency-Key is made of the key and the text).
    twice = f"twice {unique}"
    for _ in range(2):
        field = page.get_by_label(ADD_LABEL)
        field.fill(twice)
        field.press("Enter")
        expect(field).to_have_value("")
    expect(app.item(page, twice)).to_have_count(2)
    expect(app.counter(page)).to_have_text("2 items left")
    same.check()

    # Saved, not just drawn: a fresh load agrees.
    page.reload()
    expect(app.item(page, twice)).to_have_count(2)


def test_editing_in_place(app: App, person, js_page, unique):
    """Double-click (or the Rename control) edits the item where it is: Enter saves,
    Escape cancels, leaving the field saves, an empty name deletes."""
    page = js_page
    a, b, c = (f"edit {n} {unique}" for n in ("a", "b", "c"))
    app.create(person, [a, b, c])
    app.open(page)
    same = _NoReload(page)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    # Double-click: a field with the name, focused.
    app.item(page, a).locator(".name").dblclick()
    field = page.get_by_label(f"New name for “{a}”")
    expect(field).to_be_focused()
    expect(field).to_have_value(a)
    # Escape cancels: nothing sent, the old name back, the focus on its Rename control.
    field.fill("never saved")
    field.press("Escape")
    expect(field).to_have_count(0)
    expect(app.item(page, a)).to_have_count(1)
    expect(app.rename_control(page, a)).to_be_focused()
    assert posts == []

    # Enter saves (spaces trimmed by the server); the focus stays on the item.
    app.item(page, a).locator(".name").dblclick()
    page.get_by_label(f"New name for “{a}”").fill(f"  {a} saved  ")
    page.keyboard.press("Enter")
    expect(app.item(page, f"{a} saved")).to_have_count(1)
    expect(app.rename_control(page, f"{a} saved")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text(f"Renamed to “{a} saved”. 3 items left.")

    # Leaving the field saves, and the focus stays where the person went: Tab...
    app.rename_control(page, b).press("Enter")
    page.get_by_label(f"New name for “{b}”").fill(f"{b} tabbed")
    page.keyboard.press("Tab")
    expect(app.item(page, f"{b} tabbed")).to_have_count(1)
    expect(app.toggle(page, c)).to_be_focused()
    # ...or a click elsewhere.
    app.item(page, c).locator(".name").dblclick()
    page.get_by_label(f"New name for “{c}”").fill(f"{c} clicked")
    page.get_by_label(ADD_LABEL).click()
    expect(app.item(page, f"{c} clicked")).to_have_count(1)
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()

    # Another item's editor opened while a save is on its way stays open, typed text
    # and focus kept, when the saved list comes back.
    held = []
    page.route(re.compile(r"/rename$"), lambda route: held.append(route))
    app.item(page, f"{a} saved").locator(".name").dblclick()
    page.get_by_label(f"New name for “{a} saved”").fill(f"{a} again")
    app.item(page, f"{b} tabbed").locator(".name").dblclick()  # leaving a's field saves it
    page.keyboard.type(" and more")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    page.unroute(re.compile(r"/rename$"))
    expect(app.item(page, f"{a} again")).to_have_count(1)
    editor = page.get_by_label(f"New name for “{b} tabbed”")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(f"{b} tabbed and more")
    editor.press("Escape")
    expect(app.item(page, f"{b} tabbed")).to_have_count(1)

    # An empty name deletes the item; the focus goes to its neighbour (here the one before).
    app.item(page, f"{c} clicked").locator(".name").dblclick()
    page.get_by_label(f"New name for “{c} clicked”").fill("   ")
    page.keyboard.press("Enter")
    expect(app.item(page, f"{c} clicked")).to_have_count(0)
    expect(app.toggle(page, f"{b} tabbed")).to_be_focused()
    expect(app.counter(page)).to_have_text("2 items left")
    same.check()
    assert len(posts) == 5

    page.reload()
    expect(page.locator("li.todo .name")).to_have_text([f"{a} again", f"{b} tabbed"])


def test_filters_as_hash_links(app: App, person, js_page, unique):
    """TodoMVC's #/active and #/completed open the server's filters (?status=)."""
    page = js_page
    active, done = f"hash active {unique}", f"hash done {unique}"
    app.create(person, [active])
    app.create(person, [done], completed=True)
    app.open(page, "/#/completed")
    expect(page).to_have_url(re.compile(r"\?status=completed$"))
    expect(app.filter_link(page, "Completed")).to_have_attribute("aria-current", "page")
    expect(app.item(page, done)).to_have_count(1)
    expect(app.item(page, active)).to_have_count(0)
    page.evaluate("location.hash = '#/active'")
    expect(page).to_have_url(re.compile(r"\?status=active$"))
    expect(app.item(page, active)).to_have_count(1)
    page.evaluate("location.hash = '#/'")
    expect(page).to_have_url(app.base_url + "/")
    expect(app.item(page, done)).to_have_count(1)


def test_a_failed_change_says_so_in_place_and_keeps_the_text(app: App, js_page, unique):
    """When the writer can't be reached (here: its answer replaced by a 503), the page
    says why where forms say it, keeps what was typed, and sends nothing twice."""
    page = js_page
    text = f"not saved yet {unique}"
    app.open(page)
    sent = []

    def unavailable(route):
        sent.append(route.request.url)
        route.fulfill(status=503, json={"error": "the writer service is unavailable (test). Please try again"})

    page.route(re.compile(r"/todos$"), unavailable)
    field = page.get_by_label(ADD_LABEL)
    field.fill(text)
    field.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("The writer service is unavailable (test). Please try again")
    expect(field).to_have_value(text)
    expect(field).to_have_attribute("aria-invalid", "true")
    assert len(sent) == 1
    # Once it answers again, the same Enter saves it and the message goes.
    page.unroute(re.compile(r"/todos$"))
    field.press("Enter")
    expect(app.item(page, text)).to_have_count(1)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(field).not_to_have_attribute("aria-invalid", "true")
