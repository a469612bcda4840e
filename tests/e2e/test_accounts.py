"""Accounts in a real browser: signing up and logging in through the pages, what a
visitor who is not logged in sees, logging out, and the account page (password, API
tokens, deletion). Forms that are refused come back with a clear message, the
username kept and the password never."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from .ui import ADD_LABEL, PASSWORD, TIMEOUT, App, Person, new_username


def _signed_in_as(page, username: str) -> None:
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(f"Signed in as {username}")


def _on_login_page(page) -> None:
    """The log-in form, with the way to sign up, and nothing of anyone's lists."""
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_role("link", name="Create an account")).to_have_attribute("href", "/signup")
    expect(page.get_by_role("navigation", name="Account")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Your lists")).to_have_count(0)
    expect(page.get_by_role("list", name="Items")).to_have_count(0)


def test_sign_up_and_log_in_through_the_pages(app: App, visitor_page, unique):
    """With the mouse: from the front door to the sign-up form, a first item, log out,
    log in again, and the item is still there."""
    page = visitor_page
    username, name = new_username("signup"), f"first item {unique}"
    app.open(page)
    _on_login_page(page)
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    page.get_by_label("Username").click()
    page.keyboard.type(username)
    page.get_by_label("Password").click()
    page.keyboard.type(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(app.base_url + "/")
    _signed_in_as(page, username)
    expect(app.switcher(page).get_by_role("link", name="My list")).to_have_attribute("aria-current", "page")
    expect(page.locator("li.empty")).to_have_text("Nothing to do yet. Add an item above.")
    app.add(page, name)

    page.get_by_role("button", name="Log out").click()
    _on_login_page(page)
    expect(page.get_by_text(name)).to_have_count(0)
    app.log_in(page, username, PASSWORD)
    expect(page).to_have_url(app.base_url + "/")
    _signed_in_as(page, username)
    expect(app.item(page, name)).to_have_count(1)


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_keyboard_only_sign_up_and_add(app: App, visitor_page, unique):
    """From the log-in page to a first item with the keyboard alone."""
    page = visitor_page
    username, name = new_username("keys"), f"added with keys {unique}"
    app.open(page, "/login")
    expect(page.get_by_label("Username")).to_be_focused()  # autofocus
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Create an account")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")  # past the hint (text, not a stop) to the password
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    _signed_in_as(page, username)
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(app.item(page, name)).to_have_count(1)
    expect(page.get_by_label(ADD_LABEL)).to_be_focused()


def test_visitor_sees_the_login_page_and_lands_where_they_wanted(app: App, person: Person, new_context, unique):
    """Every page of a person's asks a visitor to log in first (never shows a list);
    after logging in they are on the page they asked for, view included."""
    secret = f"not for visitors {unique}"
    [item_id] = app.create(person, [secret])
    list_id = person.first_list
    page = new_context().new_page()
    paths = [
        "/",
        f"/lists/{list_id}",
        "/lists",
        "/account",
        f"/todos/{item_id}/edit",
        f"/lists/{list_id}?status=active",
    ]
    for path in paths:
        app.open(page, path)
        _on_login_page(page)
        assert parse_qs(urlsplit(page.url).query)["next"] == [path]
        assert secret not in page.content()
        assert person.username not in page.content()

    app.log_in(page, person.username, person.password)
    expect(page).to_have_url(f"{app.base_url}/lists/{list_id}?status=active")
    _signed_in_as(page, person.username)
    expect(app.filter_link(page, "Active")).to_have_attribute("aria-current", "page")
    expect(app.item(page, secret)).to_have_count(1)

    # "Where they wanted to go" is a page of this site, never another one.
    page.get_by_role("button", name="Log out").click()
    app.open(page, "/login?next=//evil.example/steal")
    app.log_in(page, person.username, person.password)
    expect(page).to_have_url(app.base_url + "/")
    _signed_in_as(page, person.username)


def test_log_out_ends_the_session_everywhere(app: App, person: Person, new_context, unique):
    """Log out on one device: that page is gone (back to log in, Back and the old URL
    included), and every other copy of the session has ended too: its open forms,
    valid or not, lead to log in and save nothing."""
    kept = f"from before {unique}"
    app.create(person, [kept])
    list_url = f"/lists/{person.first_list}"
    here, other, third = (new_context(person=person).new_page() for _ in range(3))
    for page in (here, other, third):
        app.open(page, list_url)
        expect(app.item(page, kept)).to_have_count(1)

    here.get_by_role("button", name="Log out").click()
    _on_login_page(here)
    here.go_back()
    _on_login_page(here)
    app.open(here, list_url)
    _on_login_page(here)
    assert kept not in here.content()

    # Other devices with the same (signed, still unexpired) cookie: ended as well.
    late = f"sent after the logout {unique}"
    other.get_by_label(ADD_LABEL).fill(late)
    other.get_by_label(ADD_LABEL).press("Enter")
    _on_login_page(other)
    expect(other.get_by_role("status")).to_have_text("Your session has ended; please log in again.")
    field = third.get_by_label(ADD_LABEL)
    field.evaluate("el => el.removeAttribute('maxlength')")
    field.fill("z" * 101)  # refused by the field rule, and the session is gone too
    field.press("Enter")
    _on_login_page(third)
    expect(third.get_by_role("status")).to_have_text("Your session has ended; please log in again.")

    app.log_in(other, person.username, person.password)
    expect(app.item(other, kept)).to_have_count(1)
    expect(other.locator("li.todo")).to_have_count(1)  # nothing sent after the logout was saved


def _open_account(app: App, page) -> None:
    app.open(page)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your account")


def test_change_password(app: App, person: Person, js_page):
    page = js_page
    new_password = "a brand new passphrase"
    _open_account(app, page)
    page.get_by_label("Current password", exact=True).fill("not my password")
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("The current password is wrong")
    for label in ("Current password", "New password"):
        expect(page.get_by_label(label, exact=True)).to_have_value("")

    page.get_by_label("Current password", exact=True).fill(person.password)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_have_text("Your password was changed. You were logged out everywhere else.")
    _signed_in_as(page, person.username)  # this session goes on

    page.get_by_role("button", name="Log out").click()
    app.log_in(page, person.username, person.password)
    expect(page.get_by_role("alert")).to_have_text("The username or password is wrong")
    app.log_in(page, person.username, new_password)
    _signed_in_as(page, person.username)


def test_api_token_shown_once_works_and_is_revoked(app: App, person: Person, js_page, unique):
    page = js_page
    name, scripted = f"seen by the script {unique}", f"added by the script {unique}"
    app.create(person, [name])
    _open_account(app, page)
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    expect(page.get_by_label("New token for")).to_have_value(str(person.first_list))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Create token").click()
    assert posted.value.status == 201
    expect(page.get_by_role("status")).to_contain_text("it is shown only once")
    api_root = page.get_by_label("Collection URL").input_value()
    token = page.get_by_label("Token (for").input_value()
    assert api_root.startswith(app.base_url + "/api/t/") and api_root.endswith("/todos")

    # A script with no header and no cookie: the URL is enough.
    seen = requests.get(api_root, timeout=TIMEOUT)
    assert seen.status_code == 200
    assert [todo["title"] for todo in seen.json()] == [name]
    assert requests.post(api_root, json={"title": scripted}, timeout=TIMEOUT).status_code == 201
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(app.base_url + "/api/todos", headers=bearer, timeout=TIMEOUT).status_code == 200
    app.open(page)
    expect(app.item(page, scripted)).to_have_count(1)

    # Shown once: the account page lists the token but never shows it again.
    _open_account(app, page)
    assert token not in page.content()
    tokens = page.get_by_role("table", name="Your API tokens")
    expect(tokens.get_by_role("row")).to_have_count(2)  # the header and the one token
    tokens.get_by_role("button", name=re.compile(r"^Revoke the token for My list")).click()
    expect(page).to_have_url(re.compile(r"/account#api$"))
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert requests.get(api_root, timeout=TIMEOUT).status_code == 404
    assert requests.get(app.base_url + "/api/todos", headers=bearer, timeout=TIMEOUT).status_code == 404


def test_delete_account(app: App, person: Person, js_page, new_context):
    page = js_page
    _open_account(app, page)
    page.get_by_label("Your password, to confirm").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_have_text("The password is wrong; the account was not deleted")
    _signed_in_as(page, person.username)

    page.get_by_label("Your password, to confirm").fill(person.password)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_have_text("Your account and all its data were deleted.")
    _on_login_page(page)  # redirected there (POST, redirect, GET)
    app.log_in(page, person.username, person.password)
    expect(page.get_by_role("alert")).to_have_text("The username or password is wrong")
    expect(page.get_by_role("navigation", name="Account")).to_have_count(0)
    # A copy of the old session cookie leads nowhere either.
    elsewhere = new_context(person=person).new_page()
    app.open(elsewhere)
    _on_login_page(elsewhere)


BAD_INPUT = {
    "short-password": ("/signup", "Sign up", "Pa55w0r", 422, "The password must be at least 8 characters long"),
    "bad-username": ("/signup", "Sign up", PASSWORD, 422, "The username may contain letters, digits"),
    "taken-username": ("/signup", "Sign up", PASSWORD, 409, "is taken; choose another"),
    "wrong-password": ("/login", "Log in", "wrong password!", 401, "The username or password is wrong"),
}


# No script touches these forms: one run, JavaScript off, is the whole story.
@pytest.mark.parametrize("javascript", [False], ids=["nojs"])
@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_on_the_auth_forms(app: App, visitor_page, case):
    """The form again, with a clear message, the typed username kept and the
    password gone (from the field and from the page)."""
    page = visitor_page
    path, button, password, status, message = BAD_INPUT[case]
    if case in ("taken-username", "wrong-password"):
        existing = app.sign_up(case)
        # Usernames are unique regardless of case; log-in finds them either way.
        username = existing.username.upper() if case == "taken-username" else existing.username
    elif case == "bad-username":
        username = new_username("bad").replace("-", " ")
    else:
        username = new_username("short")
    app.open(page, path)
    # The browser's own checks would stop some of these; the server must too.
    page.locator("form.stacked-form").evaluate("form => form.noValidate = true")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    assert posted.value.status == status
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text(message)
    expect(page.get_by_role("button", name=button)).to_be_visible()  # the same form again
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_label("Password")).to_have_value("")
    assert password not in page.content()
    expect(page.get_by_role("navigation", name="Account")).to_have_count(0)
