"""Departments a case can be dispatched to (the routing table names them)."""
from __future__ import annotations

DEPARTMENTS: dict[str, str] = {
    "property": "物业服务中心",
    "security": "物业安保",
    "municipal": "市政设施",
    "fire": "微型消防站",
    "elevator": "电梯维保单位",
    "water": "二次供水单位",
    "environment": "环保监督",
    "sanitation": "环卫",
    "police": "社区警务室",
    "city_management": "城管",
    "community_office": "社区居委会",
    "civil_affairs": "民政",
    "government": "政务服务中心",
}

HANDLER_ROLES = ("grid_worker", "department")
