"""All models, imported here so the metadata (and Alembic) see every table."""
from models.access import ApiClient, AuditEntry, IpBlock, Role, SignInFailures
from models.alarms import Alarm, DeadLetter, DeviceCommand, IngestedMessage, Measurement, WebhookSubscription
from models.base import after_commit, transaction, utcnow
from models.catalogue import Category, Department, DeviceAlarmType
from models.cases import Case, CaseEvent, CaseSearch, ProcessSpec, Task
from models.devices import Device
from models.org import Grid, OrgUnit
from models.people import User, user_grids
from models.photos import Photo
from models.processes import ProcessFile
from models.reports import Report
from models.residents import Address, Open311Client, Open311Token
from models.webhooks import WebhookDelivery

__all__ = [
    "Case", "CaseEvent", "CaseSearch", "Device", "Grid", "OrgUnit", "Photo", "ProcessSpec", "Task", "User",
    "after_commit", "transaction", "user_grids", "utcnow",
    "Report",
    "Address", "Open311Client", "Open311Token",
    "ApiClient", "AuditEntry", "IpBlock", "Role", "SignInFailures",
    "Alarm", "DeadLetter", "DeviceCommand", "IngestedMessage", "Measurement", "WebhookSubscription",
    "WebhookDelivery", "ProcessFile",
    "Category", "Department", "DeviceAlarmType",
]
