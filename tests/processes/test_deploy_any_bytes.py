"""Whatever bytes and name are sent as a process file, the answer is a 4xx or a deploy, never a 500."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import ProcessFile
from tests.processes.conftest import XML
from workflows.specs import shipped_files

SHIPPED = shipped_files()["sla.dmn"]


def _mangled(draw_text: str, at: int) -> bytes:
    """A real table with arbitrary text spliced in: mostly broken XML, sometimes a broken table."""
    at = at % len(SHIPPED)
    return (SHIPPED[:at] + draw_text + SHIPPED[at:]).encode("utf-8", "surrogatepass")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["sla.dmn", "routing.dmn", "grid_case.bpmn", "x.bpmn", "a b.dmn", "", "sla.dmn\x00"]),
       body=st.one_of(st.binary(max_size=300), st.builds(_mangled, st.text(max_size=40), st.integers(0, 10**6))))
def test_any_file_is_answered_without_a_server_error(demo, client, auth, name, body):
    headers = {**auth("admin"), **XML}
    res = client.post("/api/v1/processes", query_string={"name": name}, data=body, headers=headers)
    # 201 deployed, 200 the same bytes as now (nothing spliced in), else a clear refusal.
    assert res.status_code in (200, 201, 400, 422), (res.status_code, res.get_data(as_text=True)[:300])
    versions = db.session.scalar(select(func.count()).select_from(ProcessFile).where(ProcessFile.name == "sla.dmn"))
    db.session.rollback()
    assert versions >= 1
