"""A person's named lists (create, rename, delete, switch; items stay in their list),
and two people side by side, each seeing only their own."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import ADD_LABEL, App, Person


def _switch_to(app: App, page, name: str) -> None:
    app.switcher(page).get_by_role("link", name=name, exact=True).click()
    expect(app.switcher(page).get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")


def _switcher_names(app: App, page) -> list[str]:
    links = app.switcher(page).get_by_role("link").all_inner_texts()
    return [name for name in links if name != "Manage lists"]


def test_named_lists(app: App, person: Person, page, unique):
    groceries, shopping = f"Groceries {unique}", f"Shopping {unique}"
    milk, report = f"milk {unique}", f"write the report {unique}"
    app.open(page)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Lists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your lists")
    expect(page.locator(f"#list-{person.first_list} .list-size")).to_have_text("0 items")

    # Create: the new list opens, empty, and the switcher has both.
    page.get_by_label("Name", exact=True).fill(groceries)
    page.get_by_role("button", name="Create list").click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))
    expect(page).to_have_title(f"(0) {groceries} · Todo")
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")
    assert _switcher_names(app, page) == ["My list", groceries]
    expect(app.switcher(page).get_by_role("link", name=groceries)).to_have_attribute("aria-current", "page")
    groceries_url = page.url
    app.add(page, milk)

    # Switch: each list keeps its own items.
    _switch_to(app, page, "My list")
    expect(app.item(page, milk)).to_have_count(0)
    app.add(page, report)
    expect(app.counter(page)).to_have_text("1 item left")
    _switch_to(app, page, groceries)
    expect(page).to_have_url(groceries_url)
    expect(app.item(page, milk)).to_have_count(1)
    expect(app.item(page, report)).to_have_count(0)
    expect(app.counter(page)).to_have_text("1 item left")
    # A change in one list lands back on that list.
    app.toggle(page, milk).click()
    expect(app.item(page, milk)).to_have_class(re.compile(r"\bcompleted\b"))
    # (Without JavaScript the address says where the focus goes back to.)
    expect(page).to_have_url(re.compile(re.escape(groceries_url) + r"(\?focus=item-\d+)?$"))

    # Rename, on the lists page.
    app.switcher(page).get_by_role("link", name="Manage lists").click()
    page.get_by_label(f"Name of list “{groceries}”").fill(shopping)
    page.get_by_role("button", name=f"Rename “{groceries}”").click()
    expect(page.get_by_label(f"Name of list “{shopping}”")).to_have_value(shopping)
    expect(page.get_by_role("button", name=f"Rename “{groceries}”")).to_have_count(0)
    page.get_by_role("link", name=f"Open “{shopping}”").click()
    expect(page).to_have_url(groceries_url)
    expect(page).to_have_title(f"(0) {shopping} · Todo")
    assert _switcher_names(app, page) == ["My list", shopping]
    expect(app.item(page, milk)).to_have_count(1)

    # Delete a list and its items; the other list and its items stay.
    app.switcher(page).get_by_role("link", name="Manage lists").click()
    page.get_by_role("button", name="Delete “My list” and its 1 item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your lists")
    expect(page.get_by_role("button", name=re.compile("^Delete “My list”"))).to_have_count(0)
    expect(page.get_by_role("button", name=f"Delete “{shopping}” and its 1 item")).to_be_visible()

    # The last list can't be deleted: the page says why and the list is still there.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=f"Delete “{shopping}” and its 1 item").click()
    assert posted.value.status == 409
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_have_text("This is your only list; an account keeps at least one")
    expect(page.get_by_label(f"Name of list “{shopping}”")).to_have_value(shopping)

    app.open(page)  # "/" is now the remaining list
    assert _switcher_names(app, page) == [shopping]
    expect(app.item(page, milk)).to_have_count(1)
    expect(app.item(page, report)).to_have_count(0)


def test_bad_list_names_are_refused_and_kept(app: App, person: Person, js_page, unique):
    """A list name that can't be saved (too long, or only spaces) comes back with
    the reason and what was typed."""
    page = js_page
    app.open(page, "/lists")
    new_list = page.get_by_label("Name", exact=True)
    new_list.evaluate("el => { el.removeAttribute('maxlength'); el.removeAttribute('required'); }")
    too_long = (unique + "n" * 101)[:101]
    new_list.fill(too_long)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("alert")).to_contain_text("101 characters")
    expect(page.get_by_label("Name", exact=True)).to_have_value(too_long)

    rename = page.get_by_label("Name of list “My list”")
    rename.evaluate("el => el.removeAttribute('required')")
    rename.fill("   ")
    page.get_by_role("button", name="Rename “My list”").click()
    expect(page.get_by_role("alert")).to_have_text("The name can't be empty")
    expect(page.get_by_label("Name of list “My list”")).to_have_value("   ")
    rename = page.get_by_label("Name of list “My list”")
    rename.evaluate("el => el.removeAttribute('maxlength')")
    rename.fill(too_long)
    page.get_by_role("button", name="Rename “My list”").click()
    expect(page.get_by_role("alert")).to_contain_text("101 characters")
    expect(page.get_by_label("Name of list “My list”")).to_have_value(too_long)
    app.open(page)
    assert _switcher_names(app, page) == ["My list"]


def test_two_people_see_only_their_own(app: App, new_context, unique):
    """Two people in two browsers: lists, items and names of the other never appear,
    and the other's list and item URLs answer with the 404 page."""
    people = {who: app.sign_up(who) for who in ("alice", "bob")}
    made = {}
    for who, person in people.items():
        second = app.create_list(person, f"{who}'s plans {unique}")
        [first_item] = app.create(person, [f"{who}'s secret {unique}"])
        [second_item] = app.create(person, [f"{who}'s plan {unique}"], list_id=second)
        made[who] = {
            "names": [person.username, f"{who}'s plans {unique}", f"{who}'s secret {unique}", f"{who}'s plan {unique}"],
            "lists": [person.first_list, second],
            "items": [first_item, second_item],
        }
    pages = {who: new_context(person=person).new_page() for who, person in people.items()}

    for me, other in (("alice", "bob"), ("bob", "alice")):
        page = pages[me]
        for path in ["/", *(f"/lists/{list_id}" for list_id in made[me]["lists"]), "/lists", "/account"]:
            app.open(page, path)
            html = page.content()
            assert [name for name in made[other]["names"] if name in html] == [], path
            if path == "/":
                assert _switcher_names(app, page) == ["My list", f"{me}'s plans {unique}"]
                expect(app.item(page, f"{me}'s secret {unique}")).to_have_count(1)

        for path, message in [
            *((f"/lists/{list_id}", "There is no such list") for list_id in made[other]["lists"]),
            *((f"/todos/{item_id}/edit", "There is no such item") for item_id in made[other]["items"]),
        ]:
            response = page.goto(app.base_url + path)
            assert response.status == 404, path
            expect(page.get_by_role("heading", level=1)).to_have_text("404 · Not Found")
            expect(page.get_by_role("alert")).to_contain_text(message)
            html = page.content()
            assert [name for name in made[other]["names"] if name in html] == [], path

        # A form aimed at the other's item (with the CSRF token of my own forms, here
        # the header's log-out form) changes nothing.
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        other_item = made[other]["items"][0]
        for action, form in [("toggle", {"completed": "true"}), ("rename", {"name": "mine now"}), ("delete", {})]:
            answer = page.request.post(
                f"{app.base_url}/todos/{other_item}/{action}", form={"csrf_token": token, **form}, max_redirects=0
            )
            assert answer.status == 404, (action, answer.status)

    for who, page in pages.items():
        app.open(page)
        item = app.item(page, f"{who}'s secret {unique}")
        expect(item).to_have_count(1)
        expect(item).not_to_have_class(re.compile(r"\bcompleted\b"))
        expect(page.get_by_label(ADD_LABEL)).to_be_visible()
