"""Sessions end when they should, and signing in tells an attacker nothing and locks no one out.

A copied session cookie is refused after logout, a password reset and disabling; sign-in takes
as long for an unknown account as for a known one; guesses from another address never lock
the owner out, yet each address is throttled and locked out with back-off."""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

import time_machine
from sqlalchemy import select

from extensions import db
from models import SignInFailures, User, utcnow
from web.commands.demo import DEMO_PASSWORD

NEW_PASSWORD = "Another-Passw0rd!"


def _client(app, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _signed_in(app, account: str, address: str = "127.0.0.1"):
    client = _client(app, address)
    res = client.post("/login", data={"account": account, "password": DEMO_PASSWORD})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    return client


def _copy_of(app, client):
    """Another browser holding a copy of the client's session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _opens_inbox(client) -> bool:
    res = client.get("/inbox")
    return res.status_code == 200


def test_a_copied_cookie_is_refused_after_logout(app, demo):
    app.config["WTF_CSRF_ENABLED"] = False
    owner = _signed_in(app, "dispatcher")
    thief = _copy_of(app, owner)
    assert _opens_inbox(thief)
    assert owner.post("/logout").status_code == 302
    assert not _opens_inbox(thief) and not _opens_inbox(owner)
    assert _opens_inbox(_signed_in(app, "dispatcher"))  # signing in again works


def test_a_password_reset_ends_every_session_and_token(app, demo, auth):
    app.config["WTF_CSRF_ENABLED"] = False
    thief = _copy_of(app, _signed_in(app, "gw01"))
    token = auth("gw01")
    assert _opens_inbox(thief) and app.test_client().get("/api/v1/tasks", headers=token).status_code == 200
    reset = app.test_client().post("/api/v1/users/gw01/password", headers=auth("admin"),
                                   json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.json
    assert not _opens_inbox(thief)
    assert app.test_client().get("/api/v1/tasks", headers=token).status_code == 401


def test_disabling_ends_every_session_for_good(app, demo, auth):
    app.config["WTF_CSRF_ENABLED"] = False
    thief = _copy_of(app, _signed_in(app, "gw02"))
    token = auth("gw02")
    admin = app.test_client()
    assert admin.patch("/api/v1/users/gw02", headers=auth("admin"), json={"active": False}).status_code == 200
    assert not _opens_inbox(thief)
    # Enabled again: what was copied before stays dead.
    assert admin.patch("/api/v1/users/gw02", headers=auth("admin"), json={"active": True}).status_code == 200
    assert not _opens_inbox(thief)
    assert app.test_client().get("/api/v1/tasks", headers=token).status_code == 401


def _seconds(client, account: str) -> float:
    started = time.perf_counter()
    res = client.post("/login", data={"account": account, "password": "Wrong-passw0rd"})
    assert res.status_code == 401
    return time.perf_counter() - started


def test_sign_in_takes_as_long_for_an_unknown_account(app, demo):
    app.config.update(WTF_CSRF_ENABLED=False, LOGIN_RATE_LIMIT="1000 per minute")
    client = app.test_client()
    _seconds(client, "nobody-here")  # warm up (the dummy hash is made once a process)
    # Interleaved, so a loaded machine slows both sides alike; the ratio was 0.02 before the
    # dummy hash, so a loose band still tells the two apart.
    known, unknown = [], []
    for _ in range(4):
        known.append(_seconds(client, "gw03"))
        unknown.append(_seconds(client, "nobody-here"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.33 < ratio < 3.0, (known, unknown)


def test_guesses_from_another_address_do_not_lock_the_owner_out(app, demo):
    # The per-address throttle has its own test; here the lockout alone is at work.
    app.config.update(WTF_CSRF_ENABLED=False, LOGIN_RATE_LIMIT="1000 per minute")
    attacker = _client(app, "10.9.8.7")
    for _ in range(5):
        res = attacker.post("/login", data={"account": "gw04", "password": "Guess-12345!"})
    assert res.status_code == 401 and "锁定" in res.get_data(as_text=True)
    # Locked out: even the right password from that address is refused now.
    assert attacker.post("/login", data={"account": "gw04", "password": DEMO_PASSWORD}).status_code == 401
    # The worker at their own terminal signs in as usual.
    assert _opens_inbox(_signed_in(app, "gw04"))
    # Back-off: the attacker's next lockout lasts twice as long (15, then 30 minutes).
    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        for _ in range(5):
            attacker.post("/login", data={"account": "gw04", "password": "Guess-12345!"})
        db.session.rollback()
        row = db.session.get(SignInFailures, ("gw04", "10.9.8.7"))
        assert row.lockouts == 2 and row.locked_until - utcnow() > timedelta(minutes=29)
    owner_row = db.session.get(SignInFailures, ("gw04", "127.0.0.1"))
    assert owner_row is None
    assert db.session.scalar(select(User.active).where(User.account == "gw04"))


def test_each_address_is_throttled_whichever_accounts_it_tries(app, demo):
    app.config["WTF_CSRF_ENABLED"] = False
    sprayer = _client(app, "10.9.8.9")
    answers = [sprayer.post("/login", data={"account": f"gw0{i % 5 + 1}", "password": "Guess-12345!"}).status_code
               for i in range(11)]
    assert answers[:10] == [401] * 10 and answers[10] == 429
    assert _opens_inbox(_signed_in(app, "gw05"))  # another address is not affected
