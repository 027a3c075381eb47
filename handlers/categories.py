"""The catalogue of case categories: what can be reported, by whom, in which process.

Routing and deadlines live in ``bpmn/routing.dmn`` and ``bpmn/sla.dmn``; this module only
says which categories exist, their names and the process that carries them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    family: str  # "device" (an alarm), "people" (a report or request)
    clause: str
    default_severity: str = "normal"
    process_id: str = "grid_case"


_ALL = [
    Category("door_forced", "门禁被强行打开", "Door forced open", "device", "6.2.1.5 d", "high"),
    Category("door_held_open", "门禁长时间未关", "Door held open", "device", "6.2.1.5 d"),
    Category("fence_intrusion", "周界入侵", "Perimeter fence intrusion", "device", "6.2.1.6", "high"),
    Category("fire_smoke", "烟感火警", "Smoke alarm", "device", "6.2.2.2", "urgent"),
    Category("fire_heat", "温感火警", "Heat alarm", "device", "6.2.2.2", "urgent"),
    Category("gas_leak", "可燃气体泄漏", "Combustible gas leak", "device", "6.2.2.2", "urgent"),
    Category("fire_lane_blocked", "消防通道占用", "Fire lane blocked", "device", "6.2.2.3", "high"),
    Category("fire_door_open", "防火门开启", "Fire door open", "device", "6.2.2.3"),
    Category("hydrant_abnormal", "消防栓异常", "Fire hydrant abnormal", "device", "6.2.2.3", "high"),
    Category("ebike_in_building", "电动车入楼", "E-bike entering building", "device", "6.2.2.4", "high"),
    Category("manhole_tilt", "井盖倾斜", "Manhole cover tilted", "device", "6.2.3.2"),
    Category("manhole_open", "井盖开启", "Manhole cover open", "device", "6.2.3.2", "high"),
    Category("manhole_fault", "井盖监测设备故障", "Manhole sensor fault", "device", "6.2.3.2", "low"),
    Category("streetlight_lamp_fault", "路灯灯具故障", "Street light lamp fault", "device", "6.2.3.3"),
    Category("streetlight_terminal_fault", "路灯终端故障", "Street light terminal fault", "device", "6.2.3.3"),
    Category("streetlight_cable_fault", "路灯线缆故障", "Street light cable fault", "device", "6.2.3.3", "high"),
    Category("water_tank_abnormal", "二次供水水箱异常", "Water tank abnormal", "device", "6.2.3.4"),
    Category("water_quality_abnormal", "水质异常", "Water quality abnormal", "device", "6.2.3.4", "high"),
    Category("elevator_fault", "电梯故障", "Elevator fault", "device", "6.2.3.5", "high"),
    Category("environment_threshold", "环境监测超标", "Environment reading over limit", "device", "6.2.4"),
    Category("garbage_bin_full", "垃圾桶满溢", "Garbage bin full", "device", "8.2.2.10 c", "low"),
    Category("emergency_call", "紧急呼叫", "Emergency call button", "device", "8.3.1.5 b", "urgent"),
    Category("device_offline", "设备离线", "Device offline", "device", "6.2.x", "low"),
    Category("high_altitude_throwing", "高空抛物", "High-altitude throwing", "people", "8.2.1.2", "high"),
    Category("group_renting", "群租", "Group renting", "people", "8.2.1.2"),
    Category("hazard_report", "隐患上报", "Hazard report", "people", "8.2.1.2"),
    Category("repair", "报事报修", "Repair request", "people", "8.3.1.11"),
    Category("complaint", "投诉", "Complaint", "people", "8.3.1.12"),
    Category("suggestion", "建议", "Suggestion", "people", "8.3.1.12", "low"),
    Category("consultation", "咨询", "Consultation", "people", "8.2.2.3", "low"),
    Category("government_service", "政务服务申请", "Government service request", "people", "9.2.2",
             process_id="gov_service"),
    Category("vulnerable_care", "特殊人群关爱", "Care for a vulnerable resident", "people", "8.2.2.3"),
]

CATEGORIES: dict[str, Category] = {c.code: c for c in _ALL}


class UnknownCategory(ValueError):
    pass


def category(code: str) -> Category:
    """The category with this code; raises UnknownCategory with the known codes."""
    try:
        return CATEGORIES[code]
    except KeyError:
        raise UnknownCategory(
            f"unknown category {code!r}; known: {', '.join(sorted(CATEGORIES))}"
        ) from None
