"""Personal data is encrypted where it enters, and the database refuses it in clear: no
correctness hangs on an import-time listener (importing ``workflows`` alone is enough)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import transaction
from tests.builders import new_case

ROOT = Path(__file__).resolve().parents[2]

ONLY_WORKFLOWS = """
import sys
from flask import Flask
from sqlalchemy import text
from extensions import db
import workflows  # and nothing of web/: no factory, no listeners it might register
from models import Case, transaction

app = Flask("probe")
app.config.update(SQLALCHEMY_DATABASE_URI=sys.argv[1])
db.init_app(app)
with app.app_context():
    case = db.session.get(Case, int(sys.argv[2]))
    try:
        with transaction():
            case.reporter_phone = "13812341234"
    except Exception as exc:
        print("refused", type(exc).__name__)
        sys.exit(0)
    print("stored", db.session.execute(text("SELECT reporter_phone FROM cases WHERE id = :i"), {"i": case.id}).scalar())
    sys.exit(1)
"""


def test_a_process_that_imports_only_workflows_cannot_store_a_plain_phone(app, demo):
    case = new_case("repair", reporter_phone="13800001111")
    url = db.engine.url.render_as_string(hide_password=False)
    run = subprocess.run([sys.executable, "-c", ONLY_WORKFLOWS, url, str(case.id)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("refused IntegrityError"), run.stdout + run.stderr[-2000:]


def test_opening_a_case_encrypts_the_phone_itself(app, demo):
    case = new_case("repair", reporter_phone="13800001111")
    db.session.rollback()
    stored = db.session.execute(text("SELECT reporter_phone FROM cases WHERE id = :i"), {"i": case.id}).scalar_one()
    assert stored.startswith("sm4:") and "13800001111" not in stored


@pytest.mark.parametrize("statement", [
    "UPDATE cases SET reporter_phone = '13812341234'",
    "UPDATE users SET phone = '13812341234'",
    "UPDATE users SET id_number = '110101199003071234'",
])
def test_the_database_refuses_personal_data_in_clear(app, demo, statement):
    new_case("repair", reporter_phone="13800001111")
    with pytest.raises(IntegrityError, match="sealed"):
        with transaction():
            db.session.execute(text(statement))
