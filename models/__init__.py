"""All models, imported here so the metadata (and Alembic) see every table."""
from models.base import transaction, utcnow
from models.cases import Case, CaseEvent, ProcessSpec, Task
from models.devices import Device
from models.org import Grid, OrgUnit
from models.people import User, user_grids
from models.photos import Photo

__all__ = [
    "Case", "CaseEvent", "Device", "Grid", "OrgUnit", "Photo", "ProcessSpec", "Task", "User",
    "transaction", "user_grids", "utcnow",
]
