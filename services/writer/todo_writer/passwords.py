"""Password hashing: argon2id from argon2-cffi, with its parameters in this one place.

The parameters are OWASP's recommended minimum for argon2id (19 MiB, 2 passes, one
lane): about 80 ms of one core per hash here, and bounded memory per writer thread.
When they change, a person's hash is replaced at their next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

# Verified against when the account does not exist, so a wrong username costs the
# same time as a wrong password and timing does not tell which names are taken.
_DECOY_HASH = HASHER.hash("decoy password, never matches a real one")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash (no password set) never does."""
    try:
        return HASHER.verify(stored_hash or _DECOY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
