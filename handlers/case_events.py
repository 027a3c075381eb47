"""Reading a case's event history: the queries several places share (the case page, the API,
the resident's tracking page), written once."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import CaseEvent


def events_of_case(case_id: int) -> list[CaseEvent]:
    """Every event of a case, in the order it happened."""
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)))
