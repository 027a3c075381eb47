"""Request and response shapes of the API (pydantic: validation and the OpenAPI schemas)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+\- ]{5,32}$")


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(..., max_length=48, description="a category code, see GET /api/v1/categories")
    severity: str | None = Field(None, description="low, normal, high or urgent; default by category")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=200)
    community: str | None = Field(None, max_length=64, description="community code, with an address alone")
    description: str = Field("", max_length=4000)
    title: str | None = Field(None, max_length=200)
    source: str = Field("api", description="sensor, resident, hotline, grid_worker or api")
    reporter: Reporter | None = None


class TaskOut(BaseModel):
    id: int
    case_ref: str | None = None
    name: str
    bpmn_id: str
    # What the step means (accept, dispatch, dispose, verify, feedback, close, handle, answer,
    # escalate), as its process file declares it; read this rather than bpmn_id.
    step_kind: str | None = None
    form_key: str | None
    role: str
    department: str | None
    grid: str | None
    assignee: str | None
    due_at: datetime | None
    created_at: datetime


class CaseCreated(BaseModel):
    ref: str
    status: str
    grid: str | None
    due_at: datetime | None
    tasks: list[TaskOut]


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: str | None
    task_id: int | None
    step_kind: str | None = None
    data: dict


class CaseRouting(BaseModel):
    """What the routing table chose: the handling role and the department."""
    handler_role: str | None
    department: str | None


class CaseDeadlines(BaseModel):
    """What the SLA table set: when the case had to be accepted and disposed of."""
    response_due_at: datetime | None
    dispose_due_at: datetime | None


class CaseOut(BaseModel):
    ref: str
    category: str
    severity: str
    status: str
    source: str
    title: str
    description: str
    community: str
    grid: str | None
    lat: float | None
    lon: float | None
    address: str | None
    department: str | None
    escalated: bool
    rework_count: int
    opened_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    version: int
    routing: CaseRouting
    deadlines: CaseDeadlines
    tasks: list[TaskOut]
    events: list[EventOut]


class TaskList(BaseModel):
    items: list[TaskOut]


class CompleteIn(BaseModel):
    data: dict = Field(default_factory=dict, description="the fields of the task's form: the JSON Schema "
                       "of its form key, listed under x-task-forms in this document")
    version: int | None = Field(None, description="the case version you saw; 409 when it changed")


class CaseStateOut(BaseModel):
    ref: str
    status: str
    version: int
    tasks: list[TaskOut]


class GridCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict]
