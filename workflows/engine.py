"""SpiffWorkflow wiring: the script engine, and state stored without its spec.

Per case only the instance state is stored (a few KB); the parsed spec is kept in memory
and referenced by its file hash (see ``workflows.specs``).
"""
from __future__ import annotations

import json
from copy import copy
from functools import lru_cache
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from handlers.sla import SCRIPT_FUNCTIONS

ENGINE_VERSION = "SpiffWorkflow 3.2.0"


@lru_cache(maxsize=4096)
def _compiled(expression: str):
    return compile(expression, "<expression>", "eval")


class CachedEnvironment(TaskDataEnvironment):
    """Compiles each expression once: DMN rules are evaluated on every case."""

    def evaluate(self, expression, context, external_context=None):
        scope = copy(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return eval(_compiled(expression), scope)  # noqa: S307 - BPMN files are code, deployed by admins


SCRIPT_ENGINE = PythonScriptEngine(environment=CachedEnvironment(dict(SCRIPT_FUNCTIONS)))


class InstanceOnlyConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the stored state; it is supplied again on restore."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = InstanceOnlyConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def new_workflow(spec, subprocess_specs, data: dict) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.set_data(**data)
    workflow.task_tree.data.update(data)
    return workflow


def dump_state(workflow: BpmnWorkflow) -> str:
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = registry.convert(workflow)
        return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(state: str, spec, subprocess_specs, serializer_version: str) -> BpmnWorkflow:
    dct = json.loads(state)
    if serializer_version != SERIALIZER_VERSION:
        # Stored by an older library: let SpiffWorkflow migrate the instance first.
        dct[SERIALIZER.VERSION_KEY] = serializer_version
        SERIALIZER.migrate(dct)
    workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def spec_to_json(spec, subprocess_specs) -> str:
    registry = SERIALIZER.registry
    return json.dumps({
        "spec": registry.convert(spec),
        "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
    })


def spec_from_json(text: str):
    dct = json.loads(text)
    registry = SERIALIZER.registry
    spec = registry.restore(dct["spec"])
    subprocess_specs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


__all__ = ["ENGINE_VERSION", "SERIALIZER_VERSION", "dump_state", "load_state", "new_workflow"]
