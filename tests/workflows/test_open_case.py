from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from handlers.catalogue_seed import SEED_CATEGORIES as CATEGORIES
from models import CaseEvent, Grid, ProcessSpec
from tests.builders import IN_CY02, IN_JX01, OUTSIDE, new_case, open_task
from workflows import Invalid
from workflows.engine import ENGINE_VERSION


def grid_code(case) -> str | None:
    return db.session.get(Grid, case.grid_id).code if case.grid_id else None


def test_case_is_placed_in_the_grid_holding_the_point(demo):
    assert grid_code(new_case(at=IN_JX01)) == "JX-01"
    assert grid_code(new_case(at=IN_CY02)) == "CY-02"


def test_point_outside_every_grid_goes_to_the_community_unassigned_queue(demo):
    case = new_case(at=OUTSIDE)
    assert case.grid_id is None
    accept = open_task(case, "accept")
    assert accept.grid_id is None and accept.community_id == case.community_id
    assert accept.role == "dispatcher"


def test_routing_and_deadline_come_from_the_dmn_tables(demo):
    manhole = new_case("manhole_tilt")
    assert (manhole.handler_role, manhole.department) == ("grid_worker", "municipal")
    assert (manhole.due_at - manhole.opened_at).total_seconds() == 24 * 3600
    fire = new_case("fire_smoke", source="sensor")
    assert (fire.handler_role, fire.department, fire.severity) == ("department", "fire", "urgent")
    assert (fire.due_at - fire.opened_at).total_seconds() == 2 * 3600
    accept = open_task(fire, "accept")
    assert (accept.due_at - fire.opened_at).total_seconds() == 5 * 60


def test_severity_changes_the_route(demo):
    severe = new_case("manhole_tilt", severity="urgent")
    assert (severe.handler_role, severe.department) == ("department", "municipal")
    assert (severe.due_at - severe.opened_at).total_seconds() == 2 * 3600


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_every_category_opens_with_a_route_and_a_deadline(demo, code):
    case = new_case(code)
    assert case.status == "pending_accept"
    assert case.department and case.handler_role in {"grid_worker", "department"}
    assert case.due_at > case.opened_at


def test_first_task_event_and_stored_versions(demo):
    case = new_case()
    assert case.ref and case.ref.endswith(f"{case.id:06d}")
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.id)))
    assert kinds == ["opened", "task_created"]
    assert case.engine_version == ENGINE_VERSION
    assert db.session.get(ProcessSpec, case.spec_hash).process_id == "grid_case"
    assert len(case.state) < 20000  # instance only; the spec is stored once


def test_unknown_category_is_refused_with_the_known_codes(demo):
    with pytest.raises(Invalid) as err:
        new_case("unicorn_sighting")
    assert "unknown category 'unicorn_sighting'" in err.value.message
    assert "manhole_tilt" in err.value.details["category"]


def test_location_is_required_and_checked(demo):
    from workflows import open_case
    from workflows.cases import CaseRequest

    with pytest.raises(Invalid, match="lat and lon, or an address"):
        open_case(CaseRequest(category="repair"))
    with pytest.raises(Invalid, match="between -90 and 90"):
        open_case(CaseRequest(category="repair", lat=95, lon=120))
    with pytest.raises(Invalid, match="needs its community"):
        open_case(CaseRequest(category="repair", address="3幢2单元"))
    case = open_case(CaseRequest(category="repair", address="3幢2单元", community="cuiyuan"))
    assert case.grid_id is None and case.address == "3幢2单元"
