"""No known key is ever in use: published keys are refused at start-up, missing ones are
generated once into the data directory and shared by every process, and the SM4 key rotates."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, text

import keystore
from config import load_settings
from extensions import db
from handlers.crypto import UndecryptableField, decrypt_personal, encrypt_personal
from models import Open311Client, Open311Token, User, transaction, utcnow
from tests.builders import new_case
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SM4 = "0123456789abcdeffedcba9876543210"
STRONG_SECRET = "k" * 8 + "Zq3x9Lr2Vb7Nw4Ty8Pa1Sd6Fg5Hj0Km"


@pytest.mark.parametrize("overrides, named", [
    ({"SECRET_KEY": "dev-only-change-me"}, "SECRET_KEY"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "short-but-not-known"}, "SECRET_KEY"),
    ({"SECRET_KEY": STRONG_SECRET, "SM4_KEY": SAMPLE_SM4}, "SM4_KEY"),
    ({"SECRET_KEY": STRONG_SECRET, "SM4_KEY": SAMPLE_SM4.upper()}, "SM4_KEY"),
    ({"SECRET_KEY": STRONG_SECRET, "SM4_KEY": ""}, "SM4_KEY"),
    ({"SECRET_KEY": STRONG_SECRET, "SM4_KEY": "abcd"}, "SM4_KEY"),
])
def test_start_up_refuses_published_empty_or_short_keys(overrides, named, tmp_path):
    with pytest.raises(ValueError, match=named) as refused:
        create_app({"DATA_DIR": str(tmp_path), **overrides})
    assert "DATA_DIR/keys" in str(refused.value)  # says how to fix it


def test_the_cli_refuses_the_sample_key_from_the_environment(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SM4_KEY": SAMPLE_SM4, "SECRET_KEY": STRONG_SECRET}
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "users", "list"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "SM4_KEY is the GB/T 32907 sample key" in run.stderr


PRINT_KEYS = "from config import load_settings; s = load_settings(); print(s.SECRET_KEY, s.SM4_KEY)"


def test_generated_keys_are_made_once_and_shared_by_every_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SM4_KEY")}
    env["DATA_DIR"] = str(tmp_path)
    # Started together: both race to create the keys, and must end up with the same ones.
    processes = [subprocess.Popen([sys.executable, "-c", PRINT_KEYS], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    outputs = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert len(outputs) == 1
    secret, sm4 = outputs.pop().split()
    assert len(secret) >= 48 and keystore.secret_key_problem(secret) is None
    assert keystore.sm4_key_problem(sm4) is None and sm4 != SAMPLE_SM4
    for name, value in ((keystore.SECRET_KEY_FILE, secret), (keystore.SM4_KEY_FILE, sm4)):
        path = tmp_path / "keys" / name
        assert path.read_text().strip() == value
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert list((tmp_path / "keys").iterdir()) == sorted((tmp_path / "keys").iterdir())  # no temporary left
    assert {p.name for p in (tmp_path / "keys").iterdir()} == {keystore.SECRET_KEY_FILE, keystore.SM4_KEY_FILE}
    again = load_settings({"DATA_DIR": str(tmp_path)})  # a later process (here: this one) reads them
    assert (again.SECRET_KEY, again.SM4_KEY) == (secret, sm4)


def _raw_personal_data() -> list[str]:
    db.session.rollback()
    rows = db.session.execute(text("SELECT reporter_phone FROM cases WHERE reporter_phone IS NOT NULL "
                                   "UNION ALL SELECT phone FROM users WHERE phone IS NOT NULL "
                                   "UNION ALL SELECT id_number FROM users WHERE id_number IS NOT NULL")).scalars()
    tokens = [t.payload["phone"] for t in db.session.scalars(select(Open311Token))]
    return sorted(list(rows) + tokens)


def test_rotate_sm4_re_encrypts_every_personal_value_and_the_data_still_reads(demo, runner):
    case = new_case("repair", reporter_phone="13812341234")
    with transaction():
        gw = db.session.scalar(select(User).where(User.account == "gw01"))
        gw.phone, gw.id_number = encrypt_personal("13900001111"), encrypt_personal("110101199003071234")
        client = Open311Client(name="city-app", key_hash="0" * 64, active=True)
        db.session.add(client)
        db.session.flush()
        db.session.add(Open311Token(token="t1", client_id=client.id, service_code="repair", state="pending",
                                    payload={"phone": encrypt_personal("13700002222")}, created_at=utcnow()))
    before = _raw_personal_data()
    old_key = demo.config["SM4_KEY"]
    result = runner.invoke(args=["keys", "rotate-sm4"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 4 values" in result.output
    new_key = (Path(demo.config["DATA_DIR"]) / "keys" / keystore.SM4_NEXT_FILE).read_text().strip()
    after = _raw_personal_data()
    assert len(after) == 4 and not set(before) & set(after) and all(v.startswith("sm4:") for v in after)
    # Only the new key reads the data now.
    (Path(demo.config["DATA_DIR"]) / "keys" / keystore.SM4_NEXT_FILE).unlink()
    demo.extensions.pop("sm4_file_keys", None)
    demo.config["SM4_KEY"] = old_key
    with pytest.raises(UndecryptableField):
        decrypt_personal(after[0])
    demo.config["SM4_KEY"] = new_key
    assert sorted(decrypt_personal(v) for v in after) == sorted(
        ["13812341234", "13900001111", "110101199003071234", "13700002222"])
    db.session.rollback()
    assert db.session.scalar(select(User.phone).where(User.account == "gw01")) in after
    assert case.ref  # the case page reads its phone with the new key
    stored_case_phone = db.session.execute(text("SELECT reporter_phone FROM cases WHERE id = :i"),
                                           {"i": case.id}).scalar_one()
    assert decrypt_personal(stored_case_phone) == "13812341234"


def test_rotate_sm4_with_a_generated_key_installs_it_for_every_process(tmp_path):
    """The whole command in processes of their own, on a SQLite database of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SM4_KEY")}
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert flask("db", "upgrade", "heads").returncode == 0
    seal = ("from web import create_app; from models import transaction, User; from handlers.crypto import "
            "encrypt_personal; from extensions import db\napp = create_app()\nwith app.app_context():\n"
            "    with transaction():\n        db.session.add(User(account='r1', name='r', role='admin', "
            "phone=encrypt_personal('13812341234')))\n")
    assert subprocess.run([sys.executable, "-c", seal], cwd=ROOT, env=env, timeout=60).returncode == 0
    first_key = (tmp_path / "keys" / keystore.SM4_KEY_FILE).read_text().strip()
    rotated = flask("keys", "rotate-sm4")
    assert rotated.returncode == 0, rotated.stderr
    installed = (tmp_path / "keys" / keystore.SM4_KEY_FILE).read_text().strip()
    assert installed != first_key
    assert (tmp_path / "keys" / keystore.SM4_RETIRED_FILE).read_text().strip() == first_key
    assert not (tmp_path / "keys" / keystore.SM4_NEXT_FILE).exists()
    (tmp_path / "keys" / keystore.SM4_RETIRED_FILE).unlink()  # as the operator does once all restarted
    read = ("from web import create_app; from models import User; from handlers.crypto import decrypt_personal; "
            "from extensions import db\napp = create_app()\nwith app.app_context():\n"
            "    print(decrypt_personal(db.session.scalar(db.select(User.phone))))\n")
    shown = subprocess.run([sys.executable, "-c", read], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == "13812341234", shown.stderr


def test_with_no_keys_configured_the_old_default_secret_signs_nothing(app, demo, tmp_path):
    """What `make run` leaves unset: a token and a session cookie signed with the published
    default secret were accepted as the administrator."""
    settings = {k: app.config[k] for k in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "QUEUE_PREFIX")}
    fresh = create_app({**settings, "TESTING": True, "DATA_DIR": str(tmp_path), "SECRET_KEY": None,
                        "SM4_KEY": None})
    assert fresh.secret_key not in keystore.KNOWN_KEYS and fresh.config["SM4_KEY"] != SAMPLE_SM4
    admin = db.session.scalar(select(User).where(User.account == "admin"))
    old_default = "dev-only-change-me"
    token = URLSafeSerializer(old_default, salt="api-token").dumps({"u": admin.id, "v": admin.token_version})
    signer = Flask("forger")
    signer.secret_key = old_default
    cookie = SecureCookieSessionInterface().get_signing_serializer(signer).dumps(
        {"_user_id": str(admin.id), "_fresh": True, "sv": admin.session_version})
    client = fresh.test_client()
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.set_cookie("session", cookie)
    assert client.get("/admin/users").status_code in (302, 401)
    with fresh.app_context():
        db.engine.dispose()
