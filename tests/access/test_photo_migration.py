"""The data migration that gives photos cited before the case rule their case."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from extensions import db
from models import Photo, transaction
from tests.builders import accept_and_dispatch, account, new_case, open_task, stored_photos
from workflows import complete_task

MIGRATION = Path(__file__).parents[2] / "migrations/versions/a7c3e91d5b20_cited_photos_belong_to_their_case.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("cited_photos_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_photos_cited_before_get_the_case_that_cited_them_first(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    (photo_id,) = stored_photos("gw01")
    complete_task(open_task(case, "dispose").id, account("gw01"),
                  {"result": "resolved", "note": "已修", "photos": [photo_id]})
    (loose,) = stored_photos("gw01")
    with transaction():  # as the data was before: cited, but no case
        db.session.get(Photo, photo_id).case_id = None
    with transaction():
        assert load_migration().attach_cited_photos(db.session.connection()) == 1
    db.session.expire_all()
    assert db.session.get(Photo, photo_id).case_id == case.id
    assert db.session.get(Photo, loose).case_id is None  # cited by nobody: still its uploader's
