"""Edited copies of the shipped process files, as a supervisor would deploy them."""
from __future__ import annotations

from workflows.specs import shipped_files

# Prepended to a FIRST table, these rows win over the shipped ones for manhole_tilt.
ROUTE_ROW = """<rule id="routing_rule_test_manhole">
        <description>测试：井盖倾斜交物业</description>
        <inputEntry id="routing_rule_test_manhole_category"><text>"manhole_tilt"</text></inputEntry>
        <inputEntry id="routing_rule_test_manhole_severity"><text>-</text></inputEntry>
        <outputEntry id="routing_rule_test_manhole_out1"><text>"department"</text></outputEntry>
        <outputEntry id="routing_rule_test_manhole_out2"><text>"property"</text></outputEntry>
      </rule>
      """
SLA_ROW = """<rule id="sla_rule_test_manhole">
        <description>测试：井盖倾斜6小时</description>
        <inputEntry id="sla_rule_test_manhole_category"><text>"manhole_tilt"</text></inputEntry>
        <inputEntry id="sla_rule_test_manhole_severity"><text>-</text></inputEntry>
        <outputEntry id="sla_rule_test_manhole_out1"><text>10</text></outputEntry>
        <outputEntry id="sla_rule_test_manhole_out2"><text>6</text></outputEntry>
      </rule>
      """


def _prepend_row(xml: str, row: str) -> str:
    at = xml.index("<rule ")
    return xml[:at] + row + xml[at:]


def routing_to_property() -> bytes:
    """routing.dmn with manhole_tilt sent to the property department."""
    return _prepend_row(shipped_files()["routing.dmn"], ROUTE_ROW).encode()


def sla_six_hours() -> bytes:
    """sla.dmn with manhole_tilt due in 6 hours (shipped: 24)."""
    return _prepend_row(shipped_files()["sla.dmn"], SLA_ROW).encode()


def grid_case_renamed_dispatch() -> bytes:
    """grid_case.bpmn with the dispatch step named differently."""
    xml = shipped_files()["grid_case.bpmn"]
    assert 'name="派遣 dispatch"' in xml
    return xml.replace('name="派遣 dispatch"', 'name="派遣（新版） dispatch"').encode()
