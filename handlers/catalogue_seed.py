"""The catalogue a new database starts with: the categories, departments and device alarm
types the system was first written with (they were Python lists before issue 11).

Read by the migration that creates the catalogue tables, and by ``ensure_catalogue`` for a
database emptied by the tests; at run time the tables are the one source.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CATALOGUE_FUNCTION = "catalogue.manage"

# (code, zh, en, family, clause, default severity, process) as handlers/categories.py had them.
CATEGORIES = [
    ("door_forced", "门禁被强行打开", "Door forced open", "device", "6.2.1.5 d", "high", "grid_case"),
    ("door_held_open", "门禁长时间未关", "Door held open", "device", "6.2.1.5 d", "normal", "grid_case"),
    ("fence_intrusion", "周界入侵", "Perimeter fence intrusion", "device", "6.2.1.6", "high", "grid_case"),
    ("fire_smoke", "烟感火警", "Smoke alarm", "device", "6.2.2.2", "urgent", "grid_case"),
    ("fire_heat", "温感火警", "Heat alarm", "device", "6.2.2.2", "urgent", "grid_case"),
    ("gas_leak", "可燃气体泄漏", "Combustible gas leak", "device", "6.2.2.2", "urgent", "grid_case"),
    ("fire_lane_blocked", "消防通道占用", "Fire lane blocked", "device", "6.2.2.3", "high", "grid_case"),
    ("fire_door_open", "防火门开启", "Fire door open", "device", "6.2.2.3", "normal", "grid_case"),
    ("hydrant_abnormal", "消防栓异常", "Fire hydrant abnormal", "device", "6.2.2.3", "high", "grid_case"),
    ("ebike_in_building", "电动车入楼", "E-bike entering building", "device", "6.2.2.4", "high", "grid_case"),
    ("manhole_tilt", "井盖倾斜", "Manhole cover tilted", "device", "6.2.3.2", "normal", "grid_case"),
    ("manhole_open", "井盖开启", "Manhole cover open", "device", "6.2.3.2", "high", "grid_case"),
    ("manhole_fault", "井盖监测设备故障", "Manhole sensor fault", "device", "6.2.3.2", "low", "grid_case"),
    ("streetlight_lamp_fault", "路灯灯具故障", "Street light lamp fault", "device", "6.2.3.3", "normal", "grid_case"),
    ("streetlight_terminal_fault", "路灯终端故障", "Street light terminal fault", "device", "6.2.3.3", "normal",
     "grid_case"),
    ("streetlight_cable_fault", "路灯线缆故障", "Street light cable fault", "device", "6.2.3.3", "high", "grid_case"),
    ("water_tank_abnormal", "二次供水水箱异常", "Water tank abnormal", "device", "6.2.3.4", "normal", "grid_case"),
    ("water_quality_abnormal", "水质异常", "Water quality abnormal", "device", "6.2.3.4", "high", "grid_case"),
    ("elevator_fault", "电梯故障", "Elevator fault", "device", "6.2.3.5", "high", "grid_case"),
    ("environment_threshold", "环境监测超标", "Environment reading over limit", "device", "6.2.4", "normal",
     "grid_case"),
    ("garbage_bin_full", "垃圾桶满溢", "Garbage bin full", "device", "8.2.2.10 c", "low", "grid_case"),
    ("emergency_call", "紧急呼叫", "Emergency call button", "device", "8.3.1.5 b", "urgent", "grid_case"),
    ("device_offline", "设备离线", "Device offline", "device", "6.2.x", "low", "grid_case"),
    ("high_altitude_throwing", "高空抛物", "High-altitude throwing", "people", "8.2.1.2", "high", "grid_case"),
    ("group_renting", "群租", "Group renting", "people", "8.2.1.2", "normal", "grid_case"),
    ("hazard_report", "隐患上报", "Hazard report", "people", "8.2.1.2", "normal", "grid_case"),
    ("repair", "报事报修", "Repair request", "people", "8.3.1.11", "normal", "grid_case"),
    ("complaint", "投诉", "Complaint", "people", "8.3.1.12", "normal", "grid_case"),
    ("suggestion", "建议", "Suggestion", "people", "8.3.1.12", "low", "grid_case"),
    ("consultation", "咨询", "Consultation", "people", "8.2.2.3", "low", "grid_case"),
    ("government_service", "政务服务申请", "Government service request", "people", "9.2.2", "normal",
     "gov_service"),
    ("vulnerable_care", "特殊人群关爱", "Care for a vulnerable resident", "people", "8.2.2.3", "normal", "grid_case"),
]
# Offered to residents (forms/requests.py's request types), in the form's order, with the
# question set each used.
RESIDENT_FORMS = {"repair": (1, "repair"), "hazard_report": (2, "hazard"), "high_altitude_throwing": (3, "hazard"),
                  "group_renting": (4, "hazard"), "complaint": (5, "complaint"), "suggestion": (6, "suggestion"),
                  "consultation": (7, "consultation"), "government_service": (8, "government_service"),
                  "vulnerable_care": (9, "vulnerable_care")}
# integrations/open311.py's batch services and open311_reads.py's sensitive ones.
OPEN311_BATCH = {"government_service"}
PRIVATE_DETAILS = {"government_service", "vulnerable_care", "group_renting", "complaint"}
# handlers/linkage.py's two dicts, as one.
LINKAGE = {"fire_smoke": (["unlock", "sound_light"], "fire"), "fire_heat": (["unlock", "sound_light"], "fire"),
           "gas_leak": (["sound_light"], "gas"), "fence_intrusion": (["sound_light"], "intrusion")}
DEPARTMENTS = [
    ("property", "物业服务中心", "Property management"), ("security", "物业安保", "Property security"),
    ("municipal", "市政设施", "Municipal facilities"), ("fire", "微型消防站", "Fire station"),
    ("elevator", "电梯维保单位", "Elevator maintenance"), ("water", "二次供水单位", "Water supply"),
    ("environment", "环保监督", "Environment"), ("sanitation", "环卫", "Sanitation"),
    ("police", "社区警务室", "Community police"), ("city_management", "城管", "City management"),
    ("community_office", "社区居委会", "Community office"), ("civil_affairs", "民政", "Civil affairs"),
    ("government", "政务服务中心", "Government service centre"),
]
# integrations/kinds.py's alarm type -> category; "*" holds for every kind (a silent device).
ALARM_TYPES = [
    ("manhole_cover", "tilt", "manhole_tilt"), ("manhole_cover", "open", "manhole_open"),
    ("manhole_cover", "fault", "manhole_fault"), ("street_light", "lamp_fault", "streetlight_lamp_fault"),
    ("street_light", "terminal_fault", "streetlight_terminal_fault"),
    ("street_light", "cable_fault", "streetlight_cable_fault"), ("elevator", "fault", "elevator_fault"),
    ("water_tank", "level_low", "water_tank_abnormal"), ("water_tank", "level_high", "water_tank_abnormal"),
    ("water_tank", "lid_open", "water_tank_abnormal"), ("water_quality", "turbidity", "water_quality_abnormal"),
    ("water_quality", "residual_chlorine", "water_quality_abnormal"), ("water_quality", "ph", "water_quality_abnormal"),
    ("water_quality", "conductivity", "water_quality_abnormal"), ("water_quality", "colour", "water_quality_abnormal"),
    ("smoke_detector", "smoke", "fire_smoke"), ("heat_detector", "heat", "fire_heat"), ("gas_detector", "gas", "gas_leak"),
    ("fire_door", "open", "fire_door_open"), ("fire_hydrant", "pressure_low", "hydrant_abnormal"),
    ("fire_hydrant", "leak", "hydrant_abnormal"), ("fire_hydrant", "tamper", "hydrant_abnormal"),
    ("fire_hydrant", "collision", "hydrant_abnormal"), ("fire_lane", "blocked", "fire_lane_blocked"),
    ("ebike_camera", "ebike", "ebike_in_building"), ("throwing_camera", "throwing", "high_altitude_throwing"),
    ("perimeter_fence", "intrusion", "fence_intrusion"), ("perimeter_fence", "cut", "fence_intrusion"),
    ("environment_station", "noise", "environment_threshold"), ("environment_station", "pm25", "environment_threshold"),
    ("environment_station", "pm10", "environment_threshold"), ("environment_station", "heat", "environment_threshold"),
    ("environment_station", "wind", "environment_threshold"), ("emergency_button", "pressed", "emergency_call"),
    ("garbage_bin", "full", "garbage_bin_full"), ("door_controller", "forced", "door_forced"),
    ("door_controller", "held_open", "door_held_open"), ("*", "offline", "device_offline"),
]


@dataclass(frozen=True)
class SeedCategory:
    """A category of the shipped catalogue (golden tests of the shipped tables read these)."""

    code: str
    zh: str
    en: str
    family: str
    clause: str
    default_severity: str
    process_id: str


SEED_CATEGORIES: dict[str, SeedCategory] = {row[0]: SeedCategory(*row) for row in CATEGORIES}


def seed_rows(stamp: datetime) -> tuple[list[dict], list[dict], list[dict]]:
    """(category rows, department rows, alarm type rows) as the tables take them."""
    categories = []
    for index, (code, zh, en, family, clause, severity, process) in enumerate(CATEGORIES):
        position, form = RESIDENT_FORMS.get(code, (100 + index, None))
        actions, pattern = LINKAGE.get(code, ([], None))
        categories.append({
            "code": code, "name_zh": zh, "name_en": en, "family": family, "default_severity": severity,
            "process_id": process, "national_code": None, "clause": clause, "public": code in RESIDENT_FORMS,
            "photo_required": False, "open311_batch": code in OPEN311_BATCH,
            "private_details": code in PRIVATE_DETAILS, "form": form, "linkage": list(actions), "linkage_pattern": pattern,
            "position": position, "active": True, "updated_at": stamp})
    departments = [{"code": code, "name_zh": zh, "name_en": en, "position": index, "active": True,
                    "updated_at": stamp} for index, (code, zh, en) in enumerate(DEPARTMENTS)]
    alarm_types = [{"kind": kind, "alarm_type": alarm, "category_code": category}
                   for kind, alarm, category in ALARM_TYPES]
    return categories, departments, alarm_types
