"""flask backup / flask restore: the database and the uploaded files come back as they were."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from extensions import db
from handlers.photos import photo_file, store_photo
from models import Case, Photo, transaction
from tests.builders import new_case


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_backup_and_restore_round_trip(runner, demo, tmp_path):
    case = new_case("repair", description="备份前的事件")
    with transaction():
        photo = store_photo(jpeg(), case_id=case.id)
    kept_ref, photo_id = case.ref, photo.id
    made = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert made.exit_code == 0, made.output
    assert {p.name for p in (tmp_path / "backup").iterdir()} >= {"manifest.json", "files.tar.gz"}

    new_case("complaint", description="备份后的事件")
    path = photo_file(photo)
    path.unlink()
    db.session.remove()

    restored = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert restored.exit_code == 0, restored.output
    db.session.remove()
    refs = list(db.session.scalars(select(Case.ref)))
    assert refs == [kept_ref]
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    assert photo_file(db.session.get(Photo, photo_id)).read_bytes()[:2] == b"\xff\xd8"


def test_restore_refuses_what_is_not_a_backup(runner, demo, tmp_path):
    res = runner.invoke(args=["restore", str(tmp_path), "--yes"])
    assert res.exit_code != 0 and "not a backup" in res.output


def test_shell_writes_are_audited(runner, demo):
    from models import AuditEntry

    runner.invoke(args=["cases", "open", "--category", "repair", "--lat", "30.275", "--lon", "120.105"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.operation == "cli cases open"))
    assert entry is not None and entry.operator.startswith("cli:") and entry.detail["params"]["category"] == "repair"
