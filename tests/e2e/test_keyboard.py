"""Keyboard journeys: where the focus lands after each action, with JavaScript on (the
page changes in place and the script moves the focus) and off (the redirect carries
a ``focus`` hint and the page puts ``autofocus`` on that control: no script needed).
The focus comes back where the person was: the control they used, or the next item
when theirs has left the view, never the add field at the top unless the list is
empty."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import ADD_LABEL, App

COMPLETED = re.compile(r"\bcompleted\b")


def _press(page, control, key: str, javascript: bool) -> None:
    """Focus a control and press a key on it, as a keyboard user does once there;
    without JavaScript that posts a form and loads the page the server answers."""
    control.focus()
    expect(control).to_be_focused()
    if javascript:
        control.press(key)
    else:
        with page.expect_navigation():
            control.press(key)


def test_focus_comes_back_where_the_person_was(app: App, person, page, javascript, unique):
    a, b, c, d, e = (f"{letter} {unique}" for letter in "abcde")
    app.create(person, [a, b, c, d])
    app.create(person, [e], completed=True)
    app.open(page)
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()

    # Tab from the add field reaches its button, "Mark all", then the first item; Space
    # toggles it and the focus stays on that toggle.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Mark all as complete")).to_be_focused()
    page.keyboard.press("Tab")
    expect(app.toggle(page, a)).to_be_focused()
    if javascript:
        page.keyboard.press("Space")
    else:
        with page.expect_navigation():
            page.keyboard.press("Space")
    expect(app.item(page, a)).to_have_class(COMPLETED)
    expect(app.toggle(page, a)).to_be_focused()
    if not javascript:
        expect(page).to_have_url(re.compile(r"[?&]focus=item-\d+$"))

    # Delete: the focus goes to the next item; the last item's goes to the one before.
    _press(page, app.delete_button(page, b), "Enter", javascript)
    expect(app.item(page, b)).to_have_count(0)
    expect(app.toggle(page, c)).to_be_focused()
    _press(page, app.delete_button(page, e), "Enter", javascript)
    expect(app.item(page, e)).to_have_count(0)
    expect(app.toggle(page, d)).to_be_focused()

    # Rename: back on the item's Rename control (in place with JavaScript; through
    # the rename page, whose field has the focus, without).
    renamed = f"c renamed {unique}"
    _press(page, app.rename_control(page, c), "Enter", javascript)
    field = page.get_by_label(f"New name for “{c}”")
    expect(field).to_be_focused()
    field.press("Control+a")
    page.keyboard.type(renamed)
    if javascript:
        page.keyboard.press("Enter")
    else:
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(app.item(page, renamed)).to_have_count(1)
    expect(app.rename_control(page, renamed)).to_be_focused()

    # In the Active view an item that is completed leaves it: the focus moves to the
    # next item's toggle; when the view is empty, to its filter link.
    _press(page, app.filter_link(page, "Active"), "Enter", False)  # a link: a new page either way
    expect(app.filter_link(page, "Active")).to_have_attribute("aria-current", "page")
    _press(page, app.toggle(page, renamed), "Space", javascript)
    expect(app.item(page, renamed)).to_have_count(0)
    expect(app.toggle(page, d)).to_be_focused()
    _press(page, app.toggle(page, d), "Space", javascript)
    expect(page.locator("li.empty")).to_have_text("No active items.")
    expect(app.filter_link(page, "Active")).to_be_focused()

    # Mark all: the focus stays on the button, whose words change.
    _press(page, app.filter_link(page, "All"), "Enter", False)
    _press(page, page.get_by_role("button", name="Mark all as active"), "Enter", javascript)
    expect(page.get_by_role("button", name="Mark all as complete")).to_be_focused()
    expect(app.counter(page)).to_have_text("3 items left")
    _press(page, page.get_by_role("button", name="Mark all as complete"), "Enter", javascript)
    expect(page.get_by_role("button", name="Mark all as active")).to_be_focused()

    # Clear completed: the button goes with the items; the focus goes beside it, to
    # the filter. The last item deleted, the list is empty: the add field, and no
    # list controls or footer.
    _press(page, app.toggle(page, d), "Space", javascript)
    _press(page, page.get_by_role("button", name="Clear completed (2)"), "Enter", javascript)
    expect(app.item(page, a)).to_have_count(0)
    expect(app.filter_link(page, "All")).to_be_focused()
    _press(page, app.delete_button(page, d), "Enter", javascript)
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    expect(page.locator(".list-footer")).to_have_count(0)
    expect(page.locator(".bulk")).to_have_count(0)


def test_rename_page_cancel_comes_back_to_the_item(app: App, person, new_context, unique):
    """Without JavaScript, Cancel on the rename page leads back to the item's Rename link."""
    name = f"cancelled {unique}"
    app.create(person, [f"before {unique}", name])
    page = new_context(javascript=False, person=person).new_page()
    app.open(page, "/?status=active")
    _press(page, app.rename_control(page, name), "Enter", False)
    _press(page, page.get_by_role("link", name="Cancel"), "Enter", False)
    expect(page).to_have_url(re.compile(r"status=active"))
    expect(app.rename_control(page, name)).to_be_focused()
