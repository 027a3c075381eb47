"""The catalogue as every part of the system reads it: categories, departments, and the
category each device alarm type opens (``models.catalogue``), kept a few seconds per process.

A change made here is seen at once by this process (its copy is dropped) and by every other
process within ``CATALOGUE_CACHE_SECONDS``: no restart. Retired entries stay readable (old
cases keep their names) but are offered nowhere and open no new case.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from extensions import db
from handlers.catalogue_seed import seed_rows
from handlers.errors import Invalid, NotFound
from handlers.vocabulary import Role, Severity
from models import Category, Department, DeviceAlarmType, after_commit, utcnow
from models.catalogue import FAMILIES

# Roles a dispatcher may hand the disposal to.
HANDLER_ROLES = (Role.GRID_WORKER, Role.DEPARTMENT)
# Question sets of the resident form (forms/requests.py); a category without one asks only
# what every request asks.
RESIDENT_FORMS = ("repair", "hazard", "complaint", "suggestion", "consultation", "government_service",
                  "vulnerable_care")
LINKAGE_ACTIONS = ("unlock", "sound_light")
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
ANY_KIND = "*"


class UnknownCategory(Invalid):
    """A category code the catalogue does not have, or one retired (opens no new case)."""


@dataclass(frozen=True)
class CategoryEntry:
    code: str
    zh: str
    en: str
    family: str
    default_severity: str
    process_id: str
    national_code: str | None
    clause: str
    public: bool
    photo_required: bool
    open311_batch: bool
    private_details: bool
    form: str | None
    linkage: tuple[str, ...]
    linkage_pattern: str | None
    position: int
    active: bool

    def name(self, chinese: bool = True) -> str:
        return self.zh if chinese else self.en


@dataclass(frozen=True)
class DepartmentEntry:
    code: str
    zh: str
    en: str
    position: int
    active: bool

    def name(self, chinese: bool = True) -> str:
        return self.zh if chinese else self.en


@dataclass(frozen=True)
class Catalogue:
    """One reading of the three tables, in display order."""

    categories: dict[str, CategoryEntry] = field(default_factory=dict)
    departments: dict[str, DepartmentEntry] = field(default_factory=dict)
    alarm_types: dict[tuple[str, str], str] = field(default_factory=dict)


_lock = threading.Lock()
# Database URL -> (monotonic time read, catalogue): each database its own copy (tests run two).
_cached: dict[str, tuple[float, Catalogue]] = {}


def _key() -> str:
    return str(db.engine.url)


def snapshot() -> Catalogue:
    """The catalogue, read again when older than CATALOGUE_CACHE_SECONDS."""
    key = _key()
    found = _cached.get(key)
    if found and time.monotonic() - found[0] < current_app.config.get("CATALOGUE_CACHE_SECONDS", 3):
        return found[1]
    with _lock, db.session.no_autoflush:
        categories = db.session.execute(select(Category.__table__).order_by(Category.position, Category.code))
        departments = db.session.execute(select(Department.__table__).order_by(Department.position,
                                                                                 Department.code))
        alarm_types = db.session.execute(select(DeviceAlarmType.__table__))
        catalogue = Catalogue(
            {row.code: CategoryEntry(
                row.code, row.name_zh, row.name_en, row.family, row.default_severity, row.process_id,
                row.national_code, row.clause, bool(row.public), bool(row.photo_required),
                bool(row.open311_batch), bool(row.private_details), row.form,
                tuple(row.linkage or ()), row.linkage_pattern, row.position, bool(row.active))
             for row in categories},
            {row.code: DepartmentEntry(row.code, row.name_zh, row.name_en, row.position, bool(row.active))
             for row in departments},
            {(row.kind, row.alarm_type): row.category_code for row in alarm_types})
        _cached[key] = (time.monotonic(), catalogue)
    return catalogue


def forget_catalogue() -> None:
    """Drop this process's copy (after a change here, and between tests)."""
    _cached.clear()


# Reading ------------------------------------------------------------------------------------

def categories() -> dict[str, CategoryEntry]:
    """Every category, retired ones included (old cases show their names)."""
    return snapshot().categories


def active_categories(family: str | None = None) -> list[CategoryEntry]:
    """The categories a new case may have, in display order (routing lint, filters, forms)."""
    return [c for c in snapshot().categories.values() if c.active and (family is None or c.family == family)]


def resident_categories() -> list[CategoryEntry]:
    """Active categories offered to residents (the request form, Open311 services)."""
    return [c for c in active_categories() if c.public]


def category(code: str | None) -> CategoryEntry:
    """The category with this code, retired or not; raises UnknownCategory."""
    found = snapshot().categories.get(code or "")
    if found is None:
        known = ", ".join(c.code for c in active_categories())
        raise UnknownCategory(f"unknown category {code!r}; known: {known}", details={"category": "unknown"})
    return found


def category_for_new_case(code: str | None) -> CategoryEntry:
    """The category of a case about to open: it must exist and not be retired."""
    found = category(code)
    if not found.active:
        raise UnknownCategory(f"category {code!r} is retired: it opens no new case",
                              details={"category": "retired"})
    return found


def category_name(code: str | None, chinese: bool = True) -> str:
    found = snapshot().categories.get(code or "")
    return found.name(chinese) if found else (code or "")


def departments() -> dict[str, DepartmentEntry]:
    return snapshot().departments


def active_departments() -> list[DepartmentEntry]:
    """The departments a case may be dispatched to now."""
    return [d for d in snapshot().departments.values() if d.active]


def department_name(code: str | None, chinese: bool = True) -> str:
    found = snapshot().departments.get(code or "")
    return found.name(chinese) if found else (code or "")


def alarm_category(kind: str, alarm_type: str) -> str | None:
    """The category an alarm type of a device kind opens (its own row, else the "*" row)."""
    mapping = snapshot().alarm_types
    return mapping.get((kind, alarm_type)) or mapping.get((ANY_KIND, alarm_type))


def linkage_of(code: str) -> tuple[tuple[str, ...], str | None]:
    """(commands, sound/light pattern) an alarm of this category sets off."""
    found = snapshot().categories.get(code)
    return (found.linkage, found.linkage_pattern) if found else ((), None)


# Writing (the caller's unit of work commits; forget_catalogue after it) -------------------------

CATEGORY_FIELDS = ("name_zh", "name_en", "family", "default_severity", "process", "national_code", "clause",
                   "public", "photo_required", "open311_batch", "private_details", "form", "linkage",
                   "linkage_pattern", "position", "active", "alarm_types")


ALARM_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]{0,31})\.[a-z][a-z0-9_]{0,31}$")
# Fields that may be emptied (null); every other one needs a value when given.
NULLABLE = {"national_code", "form", "linkage_pattern"}


def _no_nulls(values: dict, problems: dict[str, str]) -> None:
    for name, value in values.items():
        if value is None and name not in NULLABLE:
            problems[name] = f"{name} must not be null"


def _check_category(values: dict, known_processes: set[str], problems: dict[str, str]) -> None:
    _no_nulls(values, problems)
    for name in ("name_zh", "name_en"):
        if name in values and not (values[name] or "").strip():
            problems[name] = f"{name} must not be empty"
    if "family" in values and values["family"] not in FAMILIES:
        problems["family"] = f"family must be one of {', '.join(FAMILIES)}, not {values['family']!r}"
    if "default_severity" in values and values["default_severity"] not in Severity.codes():
        problems["default_severity"] = (f"unknown severity {values['default_severity']!r}; "
                                        f"one of {', '.join(Severity.codes())}")
    if "process" in values and values["process"] not in known_processes:
        problems["process"] = (f"unknown process {values['process']!r}; deployed: "
                               f"{', '.join(sorted(known_processes)) or 'none'}")
    if values.get("form") is not None and values["form"] not in RESIDENT_FORMS:
        problems["form"] = f"unknown form {values['form']!r}; one of {', '.join(RESIDENT_FORMS)} (or none)"
    bad_actions = [a for a in values.get("linkage") or () if a not in LINKAGE_ACTIONS]
    if bad_actions:
        problems["linkage"] = f"unknown linkage {', '.join(bad_actions)}; one of {', '.join(LINKAGE_ACTIONS)}"
    elif "sound_light" in (values.get("linkage") or ()) and not values.get("linkage_pattern"):
        problems["linkage_pattern"] = "a sound_light linkage needs its pattern"
    for pair in values.get("alarm_types") or ():
        if not ALARM_TYPE.match(pair):
            problems["alarm_types"] = f"{pair!r}: write an alarm type as kind.type (smoke_detector.smoke)"


def _listed(problems: dict[str, str]) -> str:
    """"field: problem; ..." (each problem says itself what is wrong)."""
    return "; ".join(text if text.startswith(name) else f"{name}: {text}" for name, text in problems.items())


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise Invalid("the category is not valid: " + _listed(problems), details=problems)


def add_category(values: dict, known_processes: set[str]) -> Category:
    """A new category from the API's or the admin page's fields; raises Invalid (422)."""
    code = values.get("code") or ""
    problems: dict[str, str] = {}
    if not CODE.match(code):
        problems["code"] = "code: 2-64 lower-case letters, digits and _, starting with a letter"
    elif db.session.get(Category, code) is not None:
        problems["code"] = f"a category {code!r} already exists (rename or retire it instead)"
    values = {"family": "people", "default_severity": Severity.NORMAL, "process": "grid_case", **values}
    for name in ("name_zh", "name_en"):
        values.setdefault(name, "")
    _check_category(values, known_processes, problems)
    _refuse(problems)
    row = Category(code=code, name_zh="", name_en="", family=values["family"], clause="", public=False,
                   photo_required=False, open311_batch=False, private_details=False, linkage=[], position=1000,
                   active=True)
    db.session.add(row)
    _apply_category(row, values)
    return row


def change_category(code: str, changes: dict, known_processes: set[str]) -> Category:
    """Rename, retire (active=False) or otherwise change a category; raises NotFound, Invalid."""
    row = db.session.get(Category, code)
    if row is None:
        raise NotFound(f"no category {code!r}")
    problems: dict[str, str] = {}
    merged = {"linkage": row.linkage, "linkage_pattern": row.linkage_pattern, **changes}
    if "process" in changes and changes["process"] == row.process_id:
        known_processes = known_processes | {row.process_id}
    _check_category(merged if ("linkage" in changes or "linkage_pattern" in changes) else changes,
                    known_processes, problems)
    _refuse(problems)
    _apply_category(row, changes)
    return row


def _apply_category(row: Category, values: dict) -> None:
    for name in CATEGORY_FIELDS:
        if name not in values or name == "alarm_types":
            continue
        value = values[name]
        if isinstance(value, str) and name not in ("process",):
            value = value.strip() or (None if name in ("national_code", "form", "linkage_pattern") else "")
        setattr(row, "process_id" if name == "process" else name, value if name != "linkage" else list(value or []))
    row.updated_at = utcnow()
    db.session.flush()
    _forget_on_commit()
    for pair in values.get("alarm_types") or ():
        kind, _, alarm = pair.partition(".")
        mapping = db.session.get(DeviceAlarmType, (kind, alarm))
        if mapping is None:
            db.session.add(DeviceAlarmType(kind=kind, alarm_type=alarm, category_code=row.code))
        else:
            mapping.category_code = row.code


def add_department(values: dict) -> Department:
    code = values.get("code") or ""
    problems: dict[str, str] = {}
    if not CODE.match(code):
        problems["code"] = "code: 2-32 lower-case letters, digits and _, starting with a letter"
    elif len(code) > 32:
        problems["code"] = "code: at most 32 characters"
    elif db.session.get(Department, code) is not None:
        problems["code"] = f"a department {code!r} already exists (rename or retire it instead)"
    _check_department(values, problems, creating=True)
    if problems:
        raise Invalid("the department is not valid: " + _listed(problems), details=problems)
    row = Department(code=code, name_zh=values["name_zh"].strip(), name_en=values["name_en"].strip(),
                     position=values.get("position", 1000), active=values.get("active", True), updated_at=utcnow())
    db.session.add(row)
    db.session.flush()
    _forget_on_commit()
    return row


def change_department(code: str, changes: dict) -> Department:
    row = db.session.get(Department, code)
    if row is None:
        raise NotFound(f"no department {code!r}")
    problems: dict[str, str] = {}
    _check_department(changes, problems, creating=False)
    if problems:
        raise Invalid("the department is not valid: " + _listed(problems), details=problems)
    for name in ("name_zh", "name_en", "position", "active"):
        if name in changes:
            value = changes[name]
            setattr(row, name, value.strip() if isinstance(value, str) else value)
    row.updated_at = utcnow()
    db.session.flush()
    _forget_on_commit()
    return row


def _forget_on_commit() -> None:
    """Every change of the catalogue drops this process's copy once it commits (others reload
    within CATALOGUE_CACHE_SECONDS): no caller has to remember it."""
    after_commit(forget_catalogue, key="catalogue")


def _check_department(values: dict, problems: dict[str, str], creating: bool) -> None:
    _no_nulls(values, problems)
    for name in ("name_zh", "name_en"):
        if (creating or name in values) and not (values.get(name) or "").strip():
            problems[name] = f"{name} must not be empty"


def category_out(entry: CategoryEntry | Category) -> dict:
    """A category as the API shows it."""
    if isinstance(entry, Category):
        zh, en, process, linkage = entry.name_zh, entry.name_en, entry.process_id, list(entry.linkage or [])
    else:
        zh, en, process, linkage = entry.zh, entry.en, entry.process_id, list(entry.linkage)
    return {"code": entry.code, "name_zh": zh, "name_en": en, "zh": zh, "en": en, "family": entry.family,
            "default_severity": entry.default_severity, "process": process,
            "national_code": entry.national_code, "clause": entry.clause, "public": entry.public,
            "photo_required": entry.photo_required, "open311_batch": entry.open311_batch,
            "private_details": entry.private_details, "form": entry.form, "linkage": linkage,
            "linkage_pattern": entry.linkage_pattern, "position": entry.position, "active": entry.active}


def department_out(entry: DepartmentEntry | Department) -> dict:
    zh = entry.name_zh if isinstance(entry, Department) else entry.zh
    en = entry.name_en if isinstance(entry, Department) else entry.en
    return {"code": entry.code, "name_zh": zh, "name_en": en, "position": entry.position, "active": entry.active}


def ensure_catalogue() -> None:
    """Add the seed rows a database lacks (the migration seeds them; tests empty tables)."""
    category_rows, department_rows, alarm_rows = seed_rows(utcnow())
    have = set(db.session.scalars(select(Category.code)))
    db.session.add_all(Category(**row) for row in category_rows if row["code"] not in have)
    have = set(db.session.scalars(select(Department.code)))
    db.session.add_all(Department(**row) for row in department_rows if row["code"] not in have)
    db.session.flush()
    have_pairs = {(k, a) for k, a in db.session.execute(select(DeviceAlarmType.kind, DeviceAlarmType.alarm_type))}
    db.session.add_all(DeviceAlarmType(**row) for row in alarm_rows
                       if (row["kind"], row["alarm_type"]) not in have_pairs)
    db.session.flush()
    forget_catalogue()
