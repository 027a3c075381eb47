"""Objects of a community in another street, for the row-scope tests."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from extensions import db
from handlers.grids import invalidate_grid_index
from models import Alarm, Device, Grid, OrgUnit, Report, transaction
from reports.builds import reports_root
from tests.builders import new_case, open_task, stored_photos

OTHER_STREET_POINT = (30.275, 120.305)


@pytest.fixture
def elsewhere(app, demo):
    """A case (with an open task and a photo), a device, its alarm and a built report in a
    community of another street, where no account of the demo community works."""
    with transaction():
        district_id = db.session.scalar(select(OrgUnit.parent_id).where(OrgUnit.code == "cuihu"))
        street = OrgUnit(kind="street", code="lianshan-street", name="莲山街道", parent_id=district_id)
        community = OrgUnit(kind="community", code="lianshan", name="莲山社区", parent=street)
        grid = Grid(code="LS-01", name="莲山第1网格", community=community, staff={}, boundary={
            "type": "Polygon", "coordinates": [[[120.30, 30.27], [120.31, 30.27], [120.31, 30.28],
                                                [120.30, 30.28], [120.30, 30.27]]]})
        device = Device(code="ls-smoke-01", kind="smoke_detector", name="莲山烟感", community=community, grid=grid)
        db.session.add_all([street, community, grid, device])
    invalidate_grid_index()
    case = new_case("manhole_tilt", at=OTHER_STREET_POINT, description="莲山的井盖")
    assert case.grid_id == grid.id
    task = open_task(case, "accept")
    (photo,) = stored_photos(case=case)
    path = reports_root() / "test" / "LS-01.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 not for other communities")
    with transaction():
        alarm = Alarm(device_id=device.id, type="smoke", category="fire_alarm", severity="urgent",
                      community_id=community.id, grid_id=grid.id, case_id=case.id, detail={})
        report = Report(scope_kind="grid", scope_code="LS-01", scope_name=grid.name, period_kind="month",
                        starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 31), status="done",
                        file_path="test/LS-01.pdf")
        db.session.add_all([alarm, report])
    return {"ref": case.ref, "task": task.id, "photo": photo, "alarm": alarm.id, "device": device.id,
            "report": report.id, "device_code": device.code}
