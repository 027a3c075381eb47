"""Reading the process files: SpiffWorkflow's parser, with lanes that declare their role.

A lane says which role works its tasks with an extension property on the lane itself,
``<spiffworkflow:property name="role" value="dispatcher"/>``; its name is only a caption, so
renaming a lane in a modeler no longer reroutes its tasks. Each task spec's ``lane`` is the
role of its lane. The role ``handler`` means "whom the routing table chose" (the case's
``handler_role`` and ``department``, see ``workflows.runtime``).
"""
from __future__ import annotations

from SpiffWorkflow.spiff.parser import SpiffBpmnParser

# The lane property naming the role of the lane's tasks.
LANE_ROLE_PROPERTY = "role"
# The lane role whose tasks go to the role and department the routing table chose.
ROUTED_ROLE = "handler"
_ROLE_XPATH = (f"./bpmn:extensionElements/spiffworkflow:properties/"
               f"spiffworkflow:property[@name='{LANE_ROLE_PROPERTY}']/@value")
NAMESPACES = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
              "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def lane_role(lane) -> str | None:
    """The role a ``bpmn:lane`` element declares, or None."""
    values = lane.xpath(_ROLE_XPATH, namespaces=NAMESPACES)
    return str(values[0]).strip() or None if values else None


class ProcessFileParser(SpiffBpmnParser):
    """SpiffBpmnParser whose task specs carry their lane's declared role as ``lane``.
    A lane that declares none keeps its name (``flask processes check`` refuses such a file)."""

    def _add_diagram_indexes(self, bpmn):
        super()._add_diagram_indexes(bpmn)
        lanes = self.document_lanes.get(self._document_key(bpmn), {})
        for flow_node_ref in bpmn.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces=self.namespaces):
            role = lane_role(flow_node_ref.getparent())
            if flow_node_ref.text is not None and role:
                lanes[flow_node_ref.text] = role
