"""What a role may do: functions (pages and actions) and API groups (7.3.4-7.3.5, 7.3.8),
and how far it reaches over the rows (7.3.5 resources; see ``handlers.scopes``).

Built-in roles get the permissions below when the database is set up; administrators add
custom roles, which reach the grids of their users.
"""
from __future__ import annotations

import time

from handlers.vocabulary import Role

FUNCTIONS: dict[str, str] = {
    "tasks.work": "处理待办任务",
    "cases.open": "上报事件",
    "cases.view": "查看事件",
    "board.view": "案件看板",
    "reports.view": "统计报表",
    "requests.hotline": "热线代录诉求",
    "devices.manage": "设备管理",
    "alarms.view": "告警查看",
    "users.manage": "用户与角色管理",
    "org.manage": "组织与网格管理",
    "api.manage": "接口管理",
    "audit.view": "审计日志",
    "data.backup": "数据备份与恢复",
    "catalogue.manage": "事件类别与部门管理",
    # Deploy process and decision files (BPMN/DMN are code the engine runs: trusted roles only).
    "processes.deploy": "流程与规则部署",
}

API_GROUPS: dict[str, str] = {
    "cases": "事件与任务",
    "grids": "网格",
    "devices": "设备与告警",
    "admin": "用户、角色、组织、审计",
    "processes": "流程与决策表",
}

STAFF_WORK = ["tasks.work", "cases.open", "cases.view"]
BUILTIN_ROLES: dict[str, dict] = {
    Role.ADMIN: {"name": "系统管理员", "functions": list(FUNCTIONS), "api_groups": list(API_GROUPS)},
    Role.DISPATCHER: {"name": "受理派遣员", "api_groups": ["cases", "grids", "devices"],
                   "functions": STAFF_WORK + ["board.view", "requests.hotline", "alarms.view"]},
    Role.SUPERVISOR: {"name": "督办领导", "api_groups": ["cases", "grids", "devices", "processes"],
                   "functions": STAFF_WORK + ["board.view", "reports.view", "alarms.view", "processes.deploy"]},
    Role.GRID_WORKER: {"name": "网格员", "api_groups": ["cases", "grids"], "functions": STAFF_WORK},
    Role.DEPARTMENT: {"name": "部门处置人员", "api_groups": ["cases", "grids"], "functions": STAFF_WORK},
    Role.RESIDENT: {"name": "居民", "api_groups": ["cases"], "functions": ["cases.open"]},
}

# How far each role sees rows (handlers.scopes): all, street, community, grids or own.
REACHES = ("all", "street", "community", "grids", "own")
ROLE_REACH: dict[str, str] = {Role.ADMIN: "all", Role.SUPERVISOR: "street", Role.DISPATCHER: "community",
                              Role.GRID_WORKER: "grids", Role.DEPARTMENT: "grids", Role.RESIDENT: "own"}


def reach_of(role_code: str) -> str:
    """The reach of a role; a custom role reaches the grids of its users (the narrowest place)."""
    return ROLE_REACH.get(role_code, "grids")


def ensure_builtin_roles() -> None:
    """Create the built-in roles that are missing (the migration seeds them; tests empty tables)."""
    from extensions import db
    from models import Role

    existing = set(db.session.scalars(db.select(Role.code)))
    for code, spec in BUILTIN_ROLES.items():
        if code not in existing:
            db.session.add(Role(code=code, name=spec["name"], description="", builtin=True,
                                functions=list(spec["functions"]), api_groups=list(spec["api_groups"])))
    db.session.flush()


# Grants are read on every call; a role's change reaches other processes within this time.
GRANTS_CACHE_SECONDS = 10
_grants: dict[str, tuple[float, set[str], set[str]]] = {}


def role_grants(role_code: str) -> tuple[set[str], set[str]]:
    """(functions, API groups) of a role; an unknown role grants nothing."""
    from extensions import db
    from models import Role

    cached = _grants.get(role_code)
    if cached and time.monotonic() - cached[0] < GRANTS_CACHE_SECONDS:
        return cached[1], cached[2]
    role = db.session.get(Role, role_code)
    functions, groups = (set(role.functions or []), set(role.api_groups or [])) if role else (set(), set())
    _grants[role_code] = (time.monotonic(), functions, groups)
    return functions, groups


def forget_role_grants() -> None:
    """Drop the cached grants (after a role changes here, and between tests)."""
    _grants.clear()
