"""A JSON payload's to-do fields, checked: no unknown name, the required ones there,
every value within its rule (``validation.py``), else a 422 that names the field.

The writer's API and the frontend's public API take the same fields under different
names (``name`` there, ``title`` in the Todo-Backend API): each passes its mapping to
the writer's names, and gets the fields back under those.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .errors import ApiError
from .validation import InvalidField, clean_completed, clean_name, clean_order

# The writer's field names and the rule each value must meet.
CHECKS = {"name": clean_name, "completed": clean_completed, "order": clean_order}


def checked(
    data: dict, names: Mapping[str, str], *, required: Collection[str] = (), ignored: Collection[str] = ()
) -> dict:
    """``data``'s fields under the writer's names, each value checked and cleaned.

    ``names`` maps a payload name to a writer name (a key of ``CHECKS``); ``required``
    lists payload names that must be there; payload names in ``ignored`` are accepted
    and dropped. Anything else is ApiError(422) saying what is wrong.
    """
    allowed = set(names) | set(ignored)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    for name in required:
        if name not in data:
            raise ApiError(422, f"{name} is required")
    fields = {}
    for name, field in names.items():
        if name in data:
            try:
                fields[field] = CHECKS[field](data[name])
            except InvalidField as exc:
                raise ApiError(422, str(exc)) from None
    return fields
