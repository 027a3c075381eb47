"""The reach of each role over the rows: the one scope behind pages and API."""
from __future__ import annotations

from extensions import db
from handlers.scopes import EVERYTHING, scope_of_user
from models import Case, User, transaction
from tests.builders import IN_CY02, OUTSIDE, account, new_case, work

CASES = {"jx01": None, "cy02": IN_CY02, "queue": OUTSIDE}


def visible(who: str, cases: dict[str, Case]) -> set[str]:
    scope = scope_of_user(account(who))
    listed = set(db.session.scalars(db.select(Case.id).where(scope.cases_where())))
    one_by_one = {name for name, case in cases.items() if scope.covers_case(case)}
    assert {name for name, case in cases.items() if case.id in listed} <= one_by_one
    return one_by_one


def test_each_role_reaches_its_place(demo, elsewhere):
    cases = {name: new_case("manhole_tilt", **({"at": at} if at else {})) for name, at in CASES.items()}
    cases["other_street"] = db.session.scalar(db.select(Case).where(Case.ref == elsewhere["ref"]))
    assert scope_of_user(account("admin")) == EVERYTHING
    assert visible("supervisor", cases) == {"jx01", "cy02", "queue"}  # the whole street, not beyond
    assert visible("dispatcher", cases) == {"jx01", "queue"}
    assert visible("dispatcher2", cases) == {"cy02"}
    assert visible("gw01", cases) == {"jx01", "queue"}  # the grid, and the community's queue
    assert visible("gw02", cases) == {"queue"}
    with transaction():
        db.session.add(User(account="inspector", name="巡查员", role="inspector", password_hash=None,
                            community_id=account("gw01").community_id, grids=[account("gw02").grids[0]]))
    assert visible("inspector", cases) == {"queue"}  # a custom role: its grids, like a grid worker


def test_residents_see_what_they_reported_and_workers_what_they_worked(demo):
    case = new_case("manhole_tilt")
    with transaction():
        resident = User(account="resident1", name="居民", role="resident", password_hash=None)
        db.session.add(resident)
        db.session.flush()
        db.session.get(Case, case.id).reporter_id = resident.id
    assert scope_of_user(resident).covers_case(case)
    assert not scope_of_user(resident).covers_case(new_case("repair"))
    # A case moves to JX-02 (rerouted): gw02 gains it; gw01, who worked a task of it, keeps
    # reading it; gw03 never had it.
    other = new_case("manhole_tilt")
    work(other, "accept", "dispatcher", accepted=True)
    work(other, "dispatch", "dispatcher", department="municipal", note="请处理")
    work(other, "dispose", "gw01", result="resolved", note="已处理")
    with transaction():
        db.session.get(Case, other.id).grid_id = account("gw02").grids[0].id
    other = db.session.get(Case, other.id)
    assert scope_of_user(account("gw02")).covers_case(other)
    assert scope_of_user(account("gw01")).covers_case(other)
    assert not scope_of_user(account("gw03")).covers_case(other)


def test_the_query_filter_and_the_row_check_agree(demo):
    """The two halves of the one scope: ``where`` (lists) and ``covers_place`` (one row)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from handlers.scopes import Scope
    from models import Device, Grid, OrgUnit

    with transaction():  # a device of each community outside every grid
        for unit_id in db.session.scalars(db.select(OrgUnit.id).where(OrgUnit.kind == "community")):
            db.session.add(Device(code=f"loose-{unit_id}", kind="smoke_detector", name="未入格", community_id=unit_id))
    devices = db.session.execute(db.select(Device.id, Device.community_id, Device.grid_id)).all()
    communities = sorted({d.community_id for d in devices})
    grids = sorted(db.session.scalars(db.select(Grid.id)))
    some = st.frozensets(st.sampled_from(communities))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(some, st.frozensets(st.sampled_from(grids)), st.none() | st.sampled_from(communities))
    def agree(community_ids, grid_ids, queue):
        scope = Scope(community_ids=community_ids, grid_ids=grid_ids, queue_community_id=queue)
        listed = set(db.session.scalars(db.select(Device.id).where(scope.where(Device.community_id, Device.grid_id))))
        assert listed == {d.id for d in devices if scope.covers_place(d.community_id, d.grid_id)}

    agree()
