"""Personal data at rest: SM4 encryption of phones, masking, and who sees a phone in full."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from config import load_settings
from extensions import db
from handlers.crypto import (
    UndecryptableField,
    decrypt_personal,
    encrypt_personal,
    mask_id_number,
    mask_phone,
    normalize_phone,
    phone_matches,
    reporter_phone_for,
)
from models import Task
from tests.builders import accept_and_dispatch, account, new_case
from workflows import claim_task
from workflows.cases import case_by_ref


def test_sm4_round_trip_fresh_nonce_and_tamper_detection(app):
    first, second = encrypt_personal("13812341234"), encrypt_personal("13812341234")
    assert first != second and first.startswith("sm4:") and "1381234" not in first
    assert decrypt_personal(first) == decrypt_personal(second) == "13812341234"
    assert len(encrypt_personal("0" * 20)) <= 128  # fits cases.reporter_phone
    tampered = first[:-3] + ("A" if first[-3] != "A" else "B") + first[-2:]
    with pytest.raises(UndecryptableField):
        decrypt_personal(tampered)
    app.config["SM4_KEY"] = "ffeeddccbbaa99887766554433221100"
    with pytest.raises(UndecryptableField):
        decrypt_personal(first)
    assert decrypt_personal("13800000000") == "13800000000"  # a value stored before encryption


@pytest.mark.parametrize("raw, digits", [
    ("13812341234", "13812341234"), ("+86 138-1234-1234", "13812341234"), ("0571-8888 6666", "057188886666"),
    ("(0571) 88886666", "057188886666"), ("12", None), ("call me", None), ("1381234123412341234", None),
])
def test_phone_numbers_are_cleaned(raw, digits):
    assert normalize_phone(raw) == digits


def test_masks():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("057188886666") == "057*****6666"
    assert mask_phone("123456") == "****56"
    assert mask_id_number("110101199003071234") == "110101********1234"


def test_a_malformed_key_stops_the_start(tmp_path):
    given = {"DATA_DIR": str(tmp_path)}  # the secret key it generates goes there
    with pytest.raises(ValueError, match="SM4_KEY must be 32 hex digits"):
        load_settings({**given, "SM4_KEY": "not-hex"})
    with pytest.raises(ValueError, match="SM4_KEY"):
        load_settings({**given, "SM4_KEY": "abcd"})


def test_every_path_stores_the_phone_encrypted(client, auth):
    created = client.post("/api/v1/cases", headers=auth("gw01"), json={
        "category": "repair", "lat": 30.275, "lon": 120.105, "description": "漏水",
        "reporter": {"name": "孙先生", "phone": "13912345678"}})
    assert created.status_code == 201, created.json
    stored = db.session.execute(text("SELECT reporter_phone FROM cases WHERE ref = :ref"),
                                {"ref": created.json["ref"]}).scalar_one()
    assert stored.startswith("sm4:") and "13912345678" not in stored
    assert phone_matches(stored, "139 1234 5678") and not phone_matches(stored, "13912345679")


def test_the_phone_is_shown_in_full_only_to_the_case_handler(demo):
    case = new_case("repair", reporter_phone="13812341234")
    accept_and_dispatch(case, "property")
    case = case_by_ref(case.ref)
    dispose = db.session.scalar(db.select(Task).where(Task.case_id == case.id, Task.bpmn_id == "dispose"))
    handler = account("dept_property")
    assert reporter_phone_for(case, account("dispatcher")) == "138****1234"
    assert reporter_phone_for(case, handler) == "138****1234"  # not theirs until they take it
    claim_task(dispose.id, handler)
    assert reporter_phone_for(case, handler) == "13812341234"
    assert reporter_phone_for(case, account("dept_municipal")) == "138****1234"
    assert reporter_phone_for(case, None) == "138****1234"
