"""Service tokens are reused for a short window and verified once while valid, without
weakening what a token is checked for."""

from __future__ import annotations

import time

import pytest

from todo_common import service_token
from todo_common.service_token import Actor, InvalidServiceToken, sign, verify

KEY = "k" * 40
OTHER_KEY = "o" * 40


def test_the_same_actor_gets_the_same_token_within_a_window_and_others_their_own():
    ada = Actor(account_id=1, generation=3, address="10.0.0.1")
    assert sign(KEY, ada) == sign(KEY, ada)
    assert sign(KEY, ada) != sign(KEY, Actor(account_id=1, generation=4, address="10.0.0.1"))
    assert sign(KEY, ada) != sign(OTHER_KEY, ada)
    assert verify(sign(KEY, ada), (KEY,)) == ada


def test_a_reused_token_has_most_of_its_life_left():
    token = sign(KEY, Actor(account_id=2, generation=1))
    claims = service_token.jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - time.time() >= service_token.LIFETIME_SECONDS - service_token.REUSE_SECONDS - 1


def test_a_kept_token_still_expires(monkeypatch):
    now = time.time()
    token = sign(KEY, Actor(account_id=5, generation=1), now=now - service_token.LIFETIME_SECONDS + 5)
    assert verify(token, (KEY,)).account_id == 5  # valid for 5 s more (plus leeway): now kept
    later = now + 5 + service_token.LEEWAY_SECONDS + 1
    monkeypatch.setattr(service_token.time, "time", lambda: later)
    with pytest.raises(InvalidServiceToken, match="expired"):
        verify(token, (KEY,))


def test_a_token_is_kept_only_for_the_keys_that_verified_it():
    token = sign(KEY, Actor(account_id=6, generation=1))
    assert verify(token, (KEY,)).account_id == 6
    with pytest.raises(InvalidServiceToken, match="signature"):
        verify(token, (OTHER_KEY,))


def test_invalid_tokens_are_refused_every_time():
    forged = sign(OTHER_KEY, Actor(account_id=7, generation=1))
    for _ in range(2):
        with pytest.raises(InvalidServiceToken):
            verify(forged, (KEY,))
    expired = sign(KEY, Actor(account_id=7, generation=1), now=time.time() - 3600)
    for _ in range(2):
        with pytest.raises(InvalidServiceToken, match="expired"):
            verify(expired, (KEY,))
