"""Golden test of the shipped decision tables: every category x severity pair, run through the
real process (routing.dmn, then sla.dmn, then the deadline script), gives the route and the
deadlines written here. Reordering two rows of a first-match table changes a line below."""
from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from handlers.catalogue_seed import SEED_CATEGORIES as CATEGORIES
from workflows.engine import new_workflow

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
SEVERITIES = ("low", "normal", "high", "urgent")
OPENED_AT = "2026-01-01T00:00:00+00:00"

# category: per severity (low, normal, high, urgent): (handler role, department,
# response minutes, disposal hours).
EXPECTED = {
    "door_forced": (
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 2),
    ),
    "door_held_open": (
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 2),
    ),
    "fence_intrusion": (
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 4),
        ("department", "security", 15, 2),
    ),
    "fire_smoke": (
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
    ),
    "fire_heat": (
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
    ),
    "gas_leak": (
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
        ("department", "fire", 5, 2),
    ),
    "fire_lane_blocked": (
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 2),
    ),
    "fire_door_open": (
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 2),
    ),
    "hydrant_abnormal": (
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 4),
        ("department", "fire", 15, 2),
    ),
    "ebike_in_building": (
        ("grid_worker", "property", 240, 72),
        ("grid_worker", "property", 60, 24),
        ("grid_worker", "property", 30, 8),
        ("grid_worker", "property", 15, 2),
    ),
    "manhole_tilt": (
        ("grid_worker", "municipal", 240, 72),
        ("grid_worker", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "manhole_open": (
        ("grid_worker", "municipal", 240, 72),
        ("grid_worker", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "manhole_fault": (
        ("grid_worker", "municipal", 240, 72),
        ("grid_worker", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "streetlight_lamp_fault": (
        ("department", "municipal", 240, 72),
        ("department", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "streetlight_terminal_fault": (
        ("department", "municipal", 240, 72),
        ("department", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "streetlight_cable_fault": (
        ("department", "municipal", 240, 72),
        ("department", "municipal", 60, 24),
        ("department", "municipal", 30, 8),
        ("department", "municipal", 15, 2),
    ),
    "water_tank_abnormal": (
        ("department", "water", 240, 72),
        ("department", "water", 60, 24),
        ("department", "water", 30, 8),
        ("department", "water", 15, 2),
    ),
    "water_quality_abnormal": (
        ("department", "water", 240, 72),
        ("department", "water", 60, 24),
        ("department", "water", 30, 8),
        ("department", "water", 15, 2),
    ),
    "elevator_fault": (
        ("department", "elevator", 15, 4),
        ("department", "elevator", 15, 4),
        ("department", "elevator", 15, 4),
        ("department", "elevator", 15, 2),
    ),
    "environment_threshold": (
        ("grid_worker", "environment", 240, 72),
        ("grid_worker", "environment", 60, 24),
        ("grid_worker", "environment", 30, 8),
        ("grid_worker", "environment", 15, 2),
    ),
    "garbage_bin_full": (
        ("department", "sanitation", 240, 72),
        ("department", "sanitation", 60, 24),
        ("department", "sanitation", 30, 8),
        ("department", "sanitation", 15, 2),
    ),
    "emergency_call": (
        ("department", "security", 5, 1),
        ("department", "security", 5, 1),
        ("department", "security", 5, 1),
        ("department", "security", 5, 1),
    ),
    "device_offline": (
        ("department", "property", 240, 72),
        ("department", "property", 60, 24),
        ("department", "property", 30, 8),
        ("department", "property", 15, 2),
    ),
    "high_altitude_throwing": (
        ("grid_worker", "police", 240, 72),
        ("grid_worker", "police", 60, 24),
        ("grid_worker", "police", 30, 8),
        ("grid_worker", "police", 15, 2),
    ),
    "group_renting": (
        ("grid_worker", "police", 240, 72),
        ("grid_worker", "police", 60, 24),
        ("grid_worker", "police", 30, 8),
        ("grid_worker", "police", 15, 2),
    ),
    "hazard_report": (
        ("grid_worker", "city_management", 240, 72),
        ("grid_worker", "city_management", 60, 24),
        ("grid_worker", "city_management", 30, 8),
        ("grid_worker", "city_management", 15, 2),
    ),
    "repair": (
        ("department", "property", 120, 48),
        ("department", "property", 120, 48),
        ("department", "property", 30, 8),
        ("department", "property", 15, 2),
    ),
    "complaint": (
        ("grid_worker", "community_office", 240, 72),
        ("grid_worker", "community_office", 240, 72),
        ("grid_worker", "community_office", 30, 8),
        ("grid_worker", "community_office", 15, 2),
    ),
    "suggestion": (
        ("grid_worker", "community_office", 1440, 168),
        ("grid_worker", "community_office", 1440, 168),
        ("grid_worker", "community_office", 30, 8),
        ("grid_worker", "community_office", 15, 2),
    ),
    "consultation": (
        ("grid_worker", "community_office", 240, 48),
        ("grid_worker", "community_office", 240, 48),
        ("grid_worker", "community_office", 30, 8),
        ("grid_worker", "community_office", 15, 2),
    ),
    "government_service": (
        ("department", "government", 1440, 120),
        ("department", "government", 1440, 120),
        ("department", "government", 30, 8),
        ("department", "government", 15, 2),
    ),
    "vulnerable_care": (
        ("grid_worker", "civil_affairs", 240, 72),
        ("grid_worker", "civil_affairs", 60, 24),
        ("grid_worker", "civil_affairs", 30, 8),
        ("grid_worker", "civil_affairs", 15, 2),
    ),
}


def _parser() -> SpiffBpmnParser:
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in BPMN_DIR.glob("*.bpmn")])
    parser.add_dmn_files([str(p) for p in BPMN_DIR.glob("*.dmn")])
    return parser


def test_every_category_has_an_expected_route():
    assert set(EXPECTED) == set(CATEGORIES)


@pytest.mark.parametrize("category", sorted(EXPECTED))
def test_route_and_deadlines_of_every_category_and_severity(category):
    parser = _parser()
    process_id = CATEGORIES[category].process_id
    spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    for severity, (role, department, response_minutes, dispose_hours) in zip(
            SEVERITIES, EXPECTED[category], strict=True):
        workflow = new_workflow(spec, subprocess_specs,
                                {"category": category, "severity": severity, "opened_at": OPENED_AT})
        workflow.do_engine_steps()
        data = workflow.get_tasks(manual=True)[0].data
        got = (data["handler_role"], data["department"], data["response_minutes"], data["dispose_hours"])
        assert got == (role, department, response_minutes, dispose_hours), (category, severity)
