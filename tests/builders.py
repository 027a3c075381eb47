"""Builders of test data: cases at known places, and walking a case through its tasks."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from extensions import db
from handlers.photos import store_photo
from models import Case, Photo, Task, User, transaction
from workflows import complete_task, open_case
from workflows.cases import CaseRequest

# Inside grid JX-01 (lon 120.100-120.110) and inside CY-02 (lon 120.140-120.150).
IN_JX01 = (30.275, 120.105)
IN_CY02 = (30.275, 120.145)
OUTSIDE = (30.300, 120.105)  # north of every grid


def account(name: str) -> User:
    return db.session.scalar(select(User).where(User.account == name))


def new_case(category: str = "manhole_tilt", at=IN_JX01, source: str = "resident", **kw) -> Case:
    lat, lon = at
    return open_case(CaseRequest(category=category, lat=lat, lon=lon, source=source,
                                 description=kw.pop("description", "test case"), **kw))


def open_task(case: Case, bpmn_id: str) -> Task:
    db.session.rollback()
    task = db.session.scalar(select(Task).where(
        Task.case_id == case.id, Task.bpmn_id == bpmn_id, Task.status == "open"))
    assert task is not None, f"no open {bpmn_id} task on {case.ref}: {open_bpmn_ids(case)}"
    return task


def open_bpmn_ids(case: Case) -> list[str]:
    return sorted(db.session.scalars(select(Task.bpmn_id).where(
        Task.case_id == case.id, Task.status == "open")))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(30, 120, 200)) -> bytes:
    """A real, small image file (PNG or JPEG) made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def stored_photos(who: str | None = None, count: int = 1, case: Case | None = None) -> list[str]:
    """Ids of ``count`` photos stored as ``who`` uploaded them (a disposal needs at least one)."""
    uploader = account(who).id if who else None
    with transaction():
        photos: list[Photo] = [store_photo(image_bytes(color=(40 * n % 256, 90, 160)), uploader,
                                           case.id if case else None) for n in range(count)]
    return [photo.id for photo in photos]


def work(case: Case, bpmn_id: str, who: str, **data) -> Case:
    """Complete the case's open ``bpmn_id`` task as ``who``; a disposal given no photos gets
    one stored test photo, since the dispose form requires proof."""
    task = open_task(case, bpmn_id)
    if task.form_key == "dispose" and not data.get("photos"):
        data["photos"] = stored_photos(who, case=case)
    return complete_task(task.id, account(who), data)


def accept_and_dispatch(case: Case, department: str = "municipal") -> Case:
    work(case, "accept", "dispatcher", accepted=True)
    return work(case, "dispatch", "dispatcher", department=department, note="请尽快处理")
