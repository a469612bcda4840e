"""Rules for usernames and passwords, shared by the writer (which enforces them) and
the frontend (which checks early to show the form again with a message)."""

from __future__ import annotations

import re

from .validation import InvalidField

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 40
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Long passphrases are welcome; the upper bound only keeps hashing cheap to refuse.
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024


def clean_username(value) -> str:
    """A trimmed username (letters, digits, '.', '_', '-'); unique regardless of case."""
    if not isinstance(value, str):
        raise InvalidField("the username must be a string")
    name = value.strip()
    if not USERNAME_MIN_LENGTH <= len(name) <= USERNAME_MAX_LENGTH:
        raise InvalidField(f"the username must be {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters long")
    if not name.isascii() or not _USERNAME.match(name):
        raise InvalidField(
            "the username may contain letters, digits, '.', '_' and '-', and starts with a letter or digit"
        )
    return name


def clean_password(value) -> str:
    """A new password as typed (spaces count; nothing is trimmed)."""
    if not isinstance(value, str):
        raise InvalidField("the password must be a string")
    if len(value) < PASSWORD_MIN_LENGTH:
        raise InvalidField(f"the password must be at least {PASSWORD_MIN_LENGTH} characters long")
    if len(value) > PASSWORD_MAX_LENGTH:
        raise InvalidField(f"the password can be at most {PASSWORD_MAX_LENGTH} characters long")
    if "\x00" in value:
        raise InvalidField("the password can't contain a NUL character")
    return value


def given_password(value) -> str:
    """A password offered to log in: only its type and size are checked."""
    if not isinstance(value, str) or not value or len(value) > PASSWORD_MAX_LENGTH:
        raise InvalidField("the username or password is wrong")
    return value
