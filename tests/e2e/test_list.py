"""Everything a person does with the list, in a real browser, each test run twice:
with JavaScript on (changes happen in place, renaming too) and off (every control
is a plain form)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import ADD_LABEL, App


def test_add(app: App, page, unique):
    app.open(page)
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")
    name = f"buy milk {unique}"
    app.add(page, name)
    item = app.item(page, name)
    expect(item).not_to_have_class(re.compile(r"\bcompleted\b"))
    expect(item.locator(".status")).to_have_text("Not complete")
    # The add field is empty again and ready for the next item.
    expect(page.get_by_label(ADD_LABEL)).to_have_value("")
    # Still there on a fresh load (it was saved, not just drawn).
    app.open(page)
    expect(app.item(page, name)).to_have_count(1)


def test_toggle_complete_and_back(app: App, page, unique):
    name = f"toggle me {unique}"
    app.open(page)
    app.add(page, name)
    expect(app.counter(page)).to_have_text("1 item left")

    app.toggle(page, name).click()
    item = app.item(page, name)
    expect(item).to_have_class(re.compile(r"\bcompleted\b"))
    expect(item.locator(".status")).to_have_text("Completed")
    expect(app.toggle(page, name)).to_have_attribute("aria-pressed", "true")
    expect(app.counter(page)).to_have_text("0 items left")
    page.reload()
    expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))

    app.toggle(page, name).click()
    expect(app.item(page, name)).not_to_have_class(re.compile(r"\bcompleted\b"))
    expect(app.item(page, name).locator(".status")).to_have_text("Not complete")
    expect(app.toggle(page, name)).to_have_attribute("aria-pressed", "false")
    expect(app.counter(page)).to_have_text("1 item left")
    page.reload()
    expect(app.item(page, name)).not_to_have_class(re.compile(r"\bcompleted\b"))


def _rename(page, javascript: bool, name: str, new_name: str) -> None:
    """Rename as a person does: with JavaScript the item's Rename control opens a field
    in place (Enter saves); without, its link leads to the rename page (Save)."""
    App.rename_control(page, name).click()
    field = page.get_by_label(f"New name for “{name}”")
    field.fill(new_name)
    if javascript:
        expect(page).not_to_have_url(re.compile(r"/edit"))
        field.press("Enter")
    else:
        page.get_by_role("button", name="Save").click()


def test_rename(app: App, page, unique, javascript):
    old, new = f"old name {unique}", f"new name {unique}"
    app.open(page)
    app.add(page, old)
    _rename(page, javascript, old, f"  {new}  ")  # surrounding spaces are trimmed
    expect(app.item(page, new)).to_have_count(1)
    expect(app.item(page, old)).to_have_count(0)
    app.open(page)
    expect(app.item(page, new)).to_have_count(1)


def test_rename_to_empty_deletes(app: App, page, unique, javascript):
    doomed, kept = f"rename to nothing {unique}", f"bystander {unique}"
    app.open(page)
    app.add(page, kept)
    app.add(page, doomed)
    _rename(page, javascript, doomed, "")
    expect(app.item(page, doomed)).to_have_count(0)
    expect(app.item(page, kept)).to_have_count(1)
    expect(app.counter(page)).to_have_text("1 item left")


def test_delete(app: App, page, unique):
    doomed, kept = f"delete me {unique}", f"keep me {unique}"
    app.open(page)
    app.add(page, kept)
    app.add(page, doomed)
    app.item(page, doomed).get_by_role("button", name=f"Delete {doomed}").click()
    expect(app.item(page, doomed)).to_have_count(0)
    expect(app.item(page, kept)).to_have_count(1)
    app.open(page)
    expect(app.item(page, doomed)).to_have_count(0)


def test_clear_completed(app: App, page, unique):
    done, active = f"done {unique}", f"still to do {unique}"
    app.open(page)
    app.add(page, done)
    app.add(page, active)
    app.toggle(page, done).click()
    expect(app.item(page, done)).to_have_class(re.compile(r"\bcompleted\b"))
    page.get_by_role("button", name="Clear completed (1)").click()
    expect(app.item(page, done)).to_have_count(0)
    expect(app.item(page, active)).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("Clear completed"))).to_have_count(0)


def test_mark_all_complete_then_active(app: App, page, unique):
    names = [f"bulk {n} {unique}" for n in range(3)]
    app.open(page)
    for name in names:
        app.add(page, name)
    page.get_by_role("button", name="Mark all as complete").click()
    for name in names:
        expect(app.item(page, name)).to_have_class(re.compile(r"\bcompleted\b"))
    expect(app.counter(page)).to_have_text("0 items left")
    page.get_by_role("button", name="Mark all as active").click()
    for name in names:
        expect(app.item(page, name)).not_to_have_class(re.compile(r"\bcompleted\b"))
    expect(app.counter(page)).to_have_text("3 items left")


def test_filters(app: App, person, page, unique):
    active, done = f"active one {unique}", f"completed one {unique}"
    app.create(person, [active])
    app.create(person, [done], completed=True)
    app.open(page)
    expect(app.filter_link(page, "All")).to_have_attribute("aria-current", "page")

    app.filter_link(page, "Active").click()
    expect(page).to_have_url(re.compile(r"[?&]status=active\b"))
    expect(app.filter_link(page, "Active")).to_have_attribute("aria-current", "page")
    expect(app.item(page, active)).to_have_count(1)
    expect(app.item(page, done)).to_have_count(0)

    app.filter_link(page, "Completed").click()
    expect(page).to_have_url(re.compile(r"[?&]status=completed\b"))
    expect(app.filter_link(page, "Completed")).to_have_attribute("aria-current", "page")
    expect(app.item(page, done)).to_have_count(1)
    expect(app.item(page, active)).to_have_count(0)

    app.filter_link(page, "All").click()
    expect(page).not_to_have_url(re.compile(r"status="))
    expect(app.item(page, active)).to_have_count(1)
    expect(app.item(page, done)).to_have_count(1)


def test_toggle_in_a_filtered_view_keeps_the_filter(app: App, person, page, unique):
    name = f"finish from active view {unique}"
    app.create(person, [name])
    app.open(page, "/?status=active")
    app.toggle(page, name).click()
    # It leaves the "active" view (in place with JavaScript, by a reload without), and the filter stays.
    expect(app.item(page, name)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]status=active\b"))
    expect(app.counter(page)).to_have_text("0 items left")


def test_counter_singular_and_plural(app: App, page, unique):
    app.open(page)
    app.add(page, f"first {unique}")
    expect(app.counter(page)).to_have_text("1 item left")
    app.add(page, f"second {unique}")
    expect(app.counter(page)).to_have_text("2 items left")
    app.toggle(page, f"first {unique}").click()
    expect(app.counter(page)).to_have_text("1 item left")
    # Completed items are not "left".
    page.reload()
    expect(app.counter(page)).to_have_text("1 item left")


PREVIOUS = "\u2039 Previous page"


def test_pagination(app: App, person, page, unique):
    """More items than two pages (PAGE_SIZE, 100 by default): Next, Previous and First."""
    size = app.page_size
    names = [f"page item {n:04d} {unique}" for n in range(2 * size + 1)]
    app.create(person, names)
    pages = page.get_by_role("navigation", name="Pages")
    app.open(page)
    expect(page.locator("li.todo")).to_have_count(size)
    expect(app.counter(page)).to_have_text(f"{2 * size + 1} items left")
    expect(app.item(page, names[0])).to_have_count(1)
    expect(app.item(page, names[size])).to_have_count(0)
    expect(pages.get_by_role("link", name=PREVIOUS)).to_have_count(0)
    expect(pages.get_by_role("link", name="« First page")).to_have_count(0)

    pages.get_by_role("link", name="Next page »").click()
    expect(page).to_have_url(re.compile(r"[?&]after=\d+"))
    expect(app.item(page, names[size])).to_have_count(1)
    expect(pages.get_by_role("link", name="« First page")).to_have_count(0)  # Previous is the first page
    pages.get_by_role("link", name="Next page »").click()
    expect(page.locator("li.todo")).to_have_count(1)
    expect(app.item(page, names[-1])).to_have_count(1)
    expect(pages.get_by_role("link", name="Next page »")).to_have_count(0)

    # A change on the last page lands back on it.
    app.toggle(page, names[-1]).click()
    expect(app.item(page, names[-1])).to_have_class(re.compile(r"\bcompleted\b"))
    page.reload()
    expect(page).to_have_url(re.compile(r"[?&]after=\d+"))
    expect(app.item(page, names[-1])).to_have_class(re.compile(r"\bcompleted\b"))

    pages.get_by_role("link", name=PREVIOUS).click()
    expect(page.locator("li.todo")).to_have_count(size)
    expect(app.item(page, names[size])).to_have_count(1)
    expect(app.item(page, names[2 * size - 1])).to_have_count(1)
    pages.get_by_role("link", name=PREVIOUS).click()
    expect(app.item(page, names[0])).to_have_count(1)
    expect(pages.get_by_role("link", name=PREVIOUS)).to_have_count(0)

    pages.get_by_role("link", name="Next page »").click()
    pages.get_by_role("link", name="Next page »").click()
    pages.get_by_role("link", name="« First page").click()
    expect(page.locator("li.todo")).to_have_count(size)
    expect(app.item(page, names[0])).to_have_count(1)


MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'


def test_markup_in_a_name_is_shown_as_text(app: App, page, javascript):
    assert len(MARKUP) <= 100
    app.open(page)
    app.add(page, MARKUP)  # found by its exact text: it is rendered as text, not markup
    item = app.item(page, MARKUP)
    expect(item.locator(".name")).to_have_text(MARKUP)
    expect(item.locator(".name img, .name script, .name b")).to_have_count(0)
    expect(page.locator("main img, main script, main b")).to_have_count(0)
    expect(page).to_have_title("(1) My list · Todo")
    if javascript:
        assert page.evaluate("typeof window.__pwned") == "undefined"
        # The in-place toggle rewrites the row from text too.
        app.toggle(page, MARKUP).click()
        expect(item).to_have_class(re.compile(r"\bcompleted\b"))
        expect(item.locator(".name img, .name script, .name b")).to_have_count(0)
        assert page.evaluate("typeof window.__pwned") == "undefined"


def test_too_long_name_shows_an_error_and_keeps_the_text(app: App, page, unique):
    """The field has maxlength=100; a client that ignores it gets a 422 page that
    says why and keeps what was typed (nothing lost)."""
    app.open(page)
    field = page.get_by_label(ADD_LABEL)
    expect(field).to_have_attribute("maxlength", "100")
    field.evaluate("el => el.removeAttribute('maxlength')")
    text = (unique + "x" * 101)[:101]
    field.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        field.press("Enter")
    assert posted.value.status == 422
    page.wait_for_load_state()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("101 characters")
    expect(page.get_by_label(ADD_LABEL)).to_have_value(text)
    expect(page.get_by_label(ADD_LABEL)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("li.todo")).to_have_count(0)


def test_too_long_rename_shows_an_error_and_keeps_the_text(app: App, person, page, unique, javascript):
    """Refused in place or on the rename page, the answer is the rename page saying
    why, with the text kept (with JavaScript the refused field is sent again plainly)."""
    name = f"rename too long {unique}"
    app.create(person, [name])
    app.open(page)
    app.rename_control(page, name).click()
    field = page.get_by_label(re.compile("^New name for"))
    field.evaluate("el => el.removeAttribute('maxlength')")
    text = "y" * 101
    field.fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        field.press("Enter") if javascript else page.get_by_role("button", name="Save").click()
    assert posted.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("101 characters")
    reshown = page.get_by_label(re.compile("^New name for"))
    expect(reshown).to_be_visible()  # the rename form is shown again
    expect(reshown).to_have_value(text)
    expect(reshown).to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name="Cancel").click()
    expect(app.item(page, name)).to_have_count(1)  # the old name is unchanged
