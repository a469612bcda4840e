"""Accounts, sessions, API tokens and the login/sign-up throttle, on the primary.

Passwords are hashed and verified here, outside any transaction (a hash takes tens
of milliseconds), and never leave the writer. Every change returns the primary's WAL
position, as the item functions do, so the person's next read shows it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg2.errors

from todo_common.db import Database, transaction

from . import passwords
from .store import current_lsn

DEFAULT_LIST_NAME = "My list"

INSERT_ACCOUNT = (
    "INSERT INTO accounts (username, password_hash) VALUES (%s, %s) RETURNING id, username, session_generation"
)
INSERT_LIST = "INSERT INTO todo_lists (account_id, name) VALUES (%s, %s) RETURNING id"
ACCOUNT_BY_NAME = (
    "SELECT id, username, password_hash, session_generation FROM accounts WHERE lower(username) = lower(%s)"
)
ACCOUNT_BY_ID = "SELECT id, username, password_hash, session_generation FROM accounts WHERE id = %s"
RECORD_LOGIN = "UPDATE accounts SET last_login_at = now(), last_seen_at = now() WHERE id = %s"
REPLACE_HASH = "UPDATE accounts SET password_hash = %s WHERE id = %s AND password_hash = %s"
SET_PASSWORD = (
    "UPDATE accounts SET password_hash = %s, session_generation = session_generation + 1"
    " WHERE id = %s RETURNING session_generation"
)
END_SESSIONS = (
    "UPDATE accounts SET session_generation = session_generation + 1 WHERE id = %s RETURNING session_generation"
)
DELETE_ACCOUNT = "DELETE FROM accounts WHERE id = %s"
FIRST_LIST = "SELECT id FROM todo_lists WHERE account_id = %s ORDER BY id LIMIT 1"
OWN_LIST = "SELECT id FROM todo_lists WHERE id = %s AND account_id = %s"
COUNT_TOKENS = "SELECT count(*) FROM api_tokens WHERE account_id = %s"
INSERT_TOKEN = "INSERT INTO api_tokens (account_id, list_id, token_hash) VALUES (%s, %s, %s) RETURNING id"
DELETE_TOKEN = "DELETE FROM api_tokens WHERE id = %s AND account_id = %s"

# Fixed-window counters: a hit in an expired window starts a new one.
COUNT_HIT = """
INSERT INTO auth_throttle AS t (subject, window_start, hits) VALUES (%(subject)s, now(), 1)
ON CONFLICT (subject) DO UPDATE SET
    hits = CASE WHEN t.window_start <= now() - make_interval(secs => %(window)s) THEN 1 ELSE t.hits + 1 END,
    window_start = CASE WHEN t.window_start <= now() - make_interval(secs => %(window)s)
                        THEN now() ELSE t.window_start END
"""
HITS_IN_WINDOW = """
SELECT hits, greatest(1, ceil(extract(epoch FROM window_start + make_interval(secs => %(window)s) - now())))::int
FROM auth_throttle WHERE subject = %(subject)s AND window_start > now() - make_interval(secs => %(window)s)
"""
FORGET_HITS = "DELETE FROM auth_throttle WHERE subject = %(subject)s"
PURGE_THROTTLE = "DELETE FROM auth_throttle WHERE window_start < now() - interval '1 day'"


class UsernameTaken(ValueError):
    pass


class WrongCredentials(ValueError):
    """Unknown username or wrong password: deliberately the same answer for both."""


class Throttled(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class LimitReached(Exception):
    """A configured limit (lists, items, tokens) would be passed; the message says which."""


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Limits:
    signups_per_address_per_hour: int
    login_failures_per_account: int
    login_failures_per_address: int
    login_window_seconds: int
    api_tokens_per_account: int


@dataclass(frozen=True)
class Session:
    account_id: int
    username: str
    generation: int
    lsn: str
    list_id: int | None = None


def _hits(cur, subject: str, window: int) -> tuple[int, int]:
    cur.execute(HITS_IN_WINDOW, {"subject": subject, "window": window})
    row = cur.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _count_hit(cur, subject: str, window: int) -> None:
    cur.execute(COUNT_HIT, {"subject": subject, "window": window})


def _login_subjects(username: str, address: str | None) -> list[tuple[str, str]]:
    subjects = [("account", f"login:account:{username.lower()}")]
    if address:
        subjects.append(("address", f"login:address:{address}"))
    return subjects


def sign_up(db: Database, username: str, password: str, *, address: str | None, limits: Limits) -> Session:
    """A new account with one empty list; Throttled past the per-address limit."""
    password_hash = passwords.hash_password(password)
    subject = f"signup:address:{address}" if address else None

    def work(cur):
        with transaction(cur):
            if subject:
                hits, retry_after = _hits(cur, subject, 3600)
                if hits >= limits.signups_per_address_per_hour:
                    raise Throttled(
                        f"too many sign-ups from your address in the last hour; try again in {retry_after} s",
                        retry_after,
                    )
            try:
                cur.execute(INSERT_ACCOUNT, (username, password_hash))
            except psycopg2.errors.UniqueViolation:
                raise UsernameTaken(username) from None
            account_id, name, generation = cur.fetchone()
            cur.execute(INSERT_LIST, (account_id, DEFAULT_LIST_NAME))
            list_id = cur.fetchone()[0]
            if subject:
                _count_hit(cur, subject, 3600)
        return Session(account_id, name, generation, current_lsn(cur), list_id)

    return db.run(work, retry=False)


def check_password(db: Database, username: str, password: str, *, address: str | None, limits: Limits) -> Session:
    """The account if the password is right; WrongCredentials or Throttled otherwise.

    Throttled is decided before the password is checked, so past the limit even the
    right password waits: guessing cannot go on at any speed.
    """
    window = limits.login_window_seconds
    subjects = _login_subjects(username, address)
    bounds = {"account": limits.login_failures_per_account, "address": limits.login_failures_per_address}

    def before(cur):
        for kind, subject in subjects:
            hits, retry_after = _hits(cur, subject, window)
            if hits >= bounds[kind]:
                raise Throttled(
                    f"too many failed log-ins for this {'account' if kind == 'account' else 'address'};"
                    f" try again in {retry_after} s",
                    retry_after,
                )
        cur.execute(ACCOUNT_BY_NAME, (username,))
        return cur.fetchone()

    row = db.run(before)
    stored_hash = row[2] if row else None
    if not passwords.verify(stored_hash, password):

        def failed(cur):
            with transaction(cur):
                for _, subject in subjects:
                    _count_hit(cur, subject, window)

        db.run(failed, retry=False)
        raise WrongCredentials()
    account_id, name, _, generation = row

    def succeeded(cur):
        cur.execute(FORGET_HITS, {"subject": subjects[0][1]})
        cur.execute(RECORD_LOGIN, (account_id,))
        if passwords.needs_rehash(stored_hash):
            cur.execute(REPLACE_HASH, (passwords.hash_password(password), account_id, stored_hash))
        return current_lsn(cur)

    return Session(account_id, name, generation, db.run(succeeded))


def change_password(db: Database, account_id: int, current: str, new: str, *, address: str | None, limits: Limits):
    """Replace the password after checking the current one; every session ends except
    the caller's, which gets the new generation. Returns the new Session."""
    row = db.run(lambda cur: (cur.execute(ACCOUNT_BY_ID, (account_id,)), cur.fetchone())[1])
    if row is None:
        raise NotFound(account_id)
    check_password(db, row[1], current, address=address, limits=limits)
    new_hash = passwords.hash_password(new)

    def work(cur):
        cur.execute(SET_PASSWORD, (new_hash, account_id))
        return cur.fetchone()[0], current_lsn(cur)

    generation, lsn = db.run(work)
    return Session(account_id, row[1], generation, lsn)


def set_password(db: Database, username: str, password: str) -> bool:
    """For operators (the ``set-password`` command); False if there is no such account."""
    new_hash = passwords.hash_password(password)

    def work(cur):
        cur.execute(
            "UPDATE accounts SET password_hash = %s, session_generation = session_generation + 1"
            " WHERE lower(username) = lower(%s)",
            (new_hash, username),
        )
        return cur.rowcount == 1

    return db.run(work)


def end_sessions(db: Database, account_id: int) -> str:
    def work(cur):
        cur.execute(END_SESSIONS, (account_id,))
        return current_lsn(cur)

    return db.run(work)


def delete_account(db: Database, account_id: int, password: str, *, address: str | None, limits: Limits) -> str:
    """Delete the account with its lists, items and tokens, after checking the password."""
    row = db.run(lambda cur: (cur.execute(ACCOUNT_BY_ID, (account_id,)), cur.fetchone())[1])
    if row is None:
        raise NotFound(account_id)
    check_password(db, row[1], password, address=address, limits=limits)

    def work(cur):
        cur.execute(DELETE_ACCOUNT, (account_id,))
        return current_lsn(cur)

    return db.run(work)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(db: Database, account_id: int, list_id: int | None, *, limits: Limits) -> tuple[dict, str]:
    """A new token for one of the account's lists (its first by default). The token
    itself is returned once and only its hash is kept."""
    token = secrets.token_urlsafe(32)

    def work(cur):
        with transaction(cur):
            cur.execute("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (account_id,))
            if list_id is None:
                cur.execute(FIRST_LIST, (account_id,))
            else:
                cur.execute(OWN_LIST, (list_id, account_id))
            row = cur.fetchone()
            if row is None:
                raise NotFound(list_id)
            cur.execute(COUNT_TOKENS, (account_id,))
            if cur.fetchone()[0] >= limits.api_tokens_per_account:
                raise LimitReached(
                    f"an account can have at most {limits.api_tokens_per_account} API tokens; revoke one first"
                )
            cur.execute(INSERT_TOKEN, (account_id, row[0], bytes.fromhex(token_hash(token))))
            token_id = cur.fetchone()[0]
        return {"id": token_id, "token": token, "list": row[0]}, current_lsn(cur)

    return db.run(work, retry=False)


def revoke_api_token(db: Database, account_id: int, token_id: int) -> str:
    def work(cur):
        cur.execute(DELETE_TOKEN, (token_id, account_id))
        if cur.rowcount == 0:
            raise NotFound(token_id)
        return current_lsn(cur)

    return db.run(work)


def purge_throttle(db: Database) -> int:
    def work(cur):
        cur.execute(PURGE_THROTTLE)
        return cur.rowcount

    return db.run(work)
