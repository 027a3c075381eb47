"""One alarm event per device kind, with the alarm, category and grade it must give."""
from __future__ import annotations

# kind -> (payload fields, alarm type, case category, severity)
ALARM_PER_KIND = {
    "manhole_cover": ({"type": "open"}, "open", "manhole_open", "high"),
    "street_light": ({"type": "cable_fault"}, "cable_fault", "streetlight_cable_fault", "high"),
    "elevator": ({"type": "fault", "code": "trapped", "readings": {"floor": 7}}, "fault", "elevator_fault",
                 "urgent"),
    "water_tank": ({"type": "reading", "readings": {"level_pct": 8}}, "level_low", "water_tank_abnormal", "high"),
    "water_quality": ({"type": "reading", "readings": {"turbidity_ntu": 2.0, "ph": 7.2}}, "turbidity",
                      "water_quality_abnormal", "high"),
    "smoke_detector": ({"type": "smoke", "readings": {"obscuration_pct_m": 12.0}}, "smoke", "fire_smoke",
                       "urgent"),
    "heat_detector": ({"type": "reading", "readings": {"temperature_c": 70}}, "heat", "fire_heat", "urgent"),
    "gas_detector": ({"type": "gas", "readings": {"lel_pct": 30}}, "gas", "gas_leak", "urgent"),
    "fire_door": ({"type": "open", "readings": {"open_s": 700}}, "open", "fire_door_open", "high"),
    "fire_hydrant": ({"type": "reading", "readings": {"pressure_mpa": 0.04}}, "pressure_low", "hydrant_abnormal",
                     "urgent"),
    "fire_lane": ({"type": "blocked", "readings": {"blocked_s": 120}, "snapshot": "snap/lane-1.jpg"}, "blocked",
                  "fire_lane_blocked", "high"),
    "ebike_camera": ({"type": "ebike", "snapshot": "snap/ebike-1.jpg"}, "ebike", "ebike_in_building", "high"),
    "throwing_camera": ({"type": "throwing", "snapshot": "https://cam.example/t/1.jpg", "readings": {"floor": 12}},
                        "throwing", "high_altitude_throwing", "urgent"),
    "perimeter_fence": ({"type": "intrusion", "readings": {"zone": 3}}, "intrusion", "fence_intrusion", "high"),
    "environment_station": ({"type": "reading", "readings": {"noise_db": 60, "pm25_ug_m3": 160,
                                                             "temperature_c": 20}}, "pm25",
                            "environment_threshold", "high"),
    "emergency_button": ({"type": "pressed"}, "pressed", "emergency_call", "urgent"),
    "garbage_bin": ({"type": "reading", "readings": {"fill_pct": 95}}, "full", "garbage_bin_full", "low"),
    "door_controller": ({"type": "forced"}, "forced", "door_forced", "high"),
}
