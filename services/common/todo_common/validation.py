"""Rules for a to-do's fields, shared by the writer (which enforces them) and the
frontend (which checks early to re-show the form with a message)."""

from __future__ import annotations

# The original table's column is varchar(100); PostgreSQL counts characters, as does len().
NAME_MAX_LENGTH = 100

# The list's filters, in the reader's API and the pages' links.
STATUSES = ("all", "active", "completed")

# PostgreSQL bigint: ids outside this range can't exist, so in a path they are a 404
# (routing.py) and as a query argument a 400, never a 500.
MAX_ID = 2**63 - 1
MAX_ORDER = 2**31 - 1


class InvalidField(ValueError):
    """A field's value breaks a rule; the message is meant for the user."""


def clean_name(value) -> str:
    """Trimmed name, or InvalidField saying why it can't be saved."""
    if not isinstance(value, str):
        raise InvalidField("the name must be a string")
    name = value.strip()
    if not name:
        raise InvalidField("the name can't be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidField(f"the name is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}")
    if "\x00" in name:
        raise InvalidField("the name can't contain a NUL character")
    return name


def clean_completed(value) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("completed must be true or false")
    return value


def clean_order(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (-MAX_ORDER - 1 <= value <= MAX_ORDER):
        raise InvalidField(f"order must be an integer between {-MAX_ORDER - 1} and {MAX_ORDER}")
    return value


def parse_whole(name: str, text: str, minimum: int, maximum: int) -> int:
    """A whole number from a query argument, within bounds, else InvalidField naming it."""
    if not text.isascii() or not text.isdigit() or not (minimum <= int(text) <= maximum):
        raise InvalidField(f"{name} must be a whole number from {minimum} to {maximum}, got {text[:40]!r}")
    return int(text)
