"""SpiffWorkflow wiring: the script engine, and state stored without its spec.

Per case only the instance state is stored (a few KB); the parsed spec is kept in memory
and referenced by its file hash (see ``workflows.specs``).
"""
from __future__ import annotations

import json
from copy import copy, deepcopy
from functools import lru_cache
from importlib.metadata import version as package_version
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from handlers.sla import SCRIPT_FUNCTIONS

# What wrote a case's state, read from the installed package (never typed by hand).
ENGINE_VERSION = f"SpiffWorkflow {package_version('SpiffWorkflow')}"
# The parts of a whole-workflow dict that are the spec; the rest is the instance state.
SPEC_KEYS = ("spec", "subprocess_specs")


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


class MigrationError(Exception):
    """A stored state or spec is in a serializer format this library cannot upgrade."""


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def migrate_workflow_dict(dct: dict, from_version: str, to_version: str = SERIALIZER_VERSION) -> list[str]:
    """Upgrade a whole-workflow dict (spec and instance together, as SpiffWorkflow's migrations
    read both) from ``from_version`` to ``to_version`` in place; returns the versions stepped from.

    SpiffWorkflow's own ``migrate`` runs one entry of its table, and some entries do not chain to
    the next (1.2 stops at 1.3, 1.3 at 1.4): each step here lands where its function leaves the
    dict, or at the next known version, whichever is later, and the loop goes on from there."""
    steps, current = [], from_version
    known = sorted(MIGRATIONS, key=_version_key)
    while _version_key(current) < _version_key(to_version):
        migration = MIGRATIONS.get(current)
        if migration is None:
            raise MigrationError(f"no migration from serializer format {current} (this library writes "
                                 f"{SERIALIZER_VERSION})")
        dct.pop("VERSION", None)
        unset = _hide_unset_defaults(dct)
        try:
            migration(dct)
        except (AttributeError, KeyError, NameError, TypeError) as exc:
            raise MigrationError(f"migrating from serializer format {current} failed: {exc!r}") from exc
        for task_spec in unset:
            task_spec.setdefault("default_task_spec", None)
        later = [v for v in known if _version_key(v) > _version_key(current)]
        landed = max([dct.pop("VERSION", current), later[0] if later else SERIALIZER_VERSION], key=_version_key)
        steps.append(current)
        current = landed
    if current != to_version:
        raise MigrationError(f"format {from_version} migrates to {current}, not {to_version}")
    return steps


def _hide_unset_defaults(dct: dict) -> list[dict]:
    """Gateways without a default flow store ``default_task_spec: null``; the 1.2 -> 1.3
    migration calls ``.replace`` on it whenever the key is there (AttributeError). Hidden
    during a step and put back after it."""
    unset = []
    for spec in [dct.get("spec") or {}, *(dct.get("subprocess_specs") or {}).values()]:
        for task_spec in spec.get("task_specs", {}).values():
            if "default_task_spec" in task_spec and task_spec["default_task_spec"] is None:
                del task_spec["default_task_spec"]
                unset.append(task_spec)
    return unset


def _instance_frame(version: str) -> dict:
    """An instance holding only its first task (and, before 1.3, the "Root" task above it):
    lets a spec alone go through the workflow migrations, which walk the tasks too."""
    start = {"id": "00000000-0000-4000-8000-000000000002", "parent": None, "children": [], "state": 64,
             "task_spec": "Start", "triggered": False, "internal_data": {}, "data": {}, "last_state_change": 0}
    tasks = {start["id"]: start}
    if _version_key(version) < (1, 3):
        root = {**start, "id": "00000000-0000-4000-8000-000000000001", "children": [start["id"]], "task_spec": "Root"}
        start["parent"] = root["id"]
        tasks[root["id"]] = root
    return {"tasks": tasks, "subprocesses": {}, "root": next(reversed(tasks)), "data": {},
            "typename": "BpmnWorkflow", "bpmn_events": [], "correlations": {}, "last_task": None,
            "success": True, "completed": False}


def migrate_spec_dict(spec_dict: dict, from_version: str, to_version: str = SERIALIZER_VERSION) -> dict:
    """A stored spec (``spec_to_json``'s dict) in ``to_version``'s format."""
    if from_version == to_version:
        return spec_dict
    whole = {**_instance_frame(from_version), **deepcopy(spec_dict)}
    migrate_workflow_dict(whole, from_version, to_version)
    return {key: whole[key] for key in SPEC_KEYS}


def load_state(state: str, spec, subprocess_specs, serializer_version: str,
               stored_spec: dict | None = None, spec_version: str | None = None) -> BpmnWorkflow:
    """Restore a case from its instance state and its parsed spec.

    A state written in an older serializer format is migrated first, together with the spec it
    ran on (``stored_spec``, the stored dict in ``spec_version``'s format): SpiffWorkflow's
    migrations read and change both. Raises MigrationError when there is no path."""
    dct = json.loads(state)
    if serializer_version != SERIALIZER_VERSION:
        if stored_spec is None:
            raise MigrationError(f"a state in format {serializer_version} needs its stored spec to migrate")
        spec_version = spec_version or serializer_version
        if _version_key(spec_version) > _version_key(serializer_version):
            # A spec is stored no later than the first state of a case; newer cannot happen
            # unless written by hand: taken as it is.
            spec_version = serializer_version
        whole = {**dct, **migrate_spec_dict(stored_spec, spec_version, serializer_version)}
        migrate_workflow_dict(whole, serializer_version)
        dct = {key: value for key, value in whole.items() if key not in SPEC_KEYS}
    workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def spec_to_json(spec, subprocess_specs) -> str:
    registry = SERIALIZER.registry
    return json.dumps({
        "spec": registry.convert(spec),
        "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
    })


def spec_from_json(text: str, serializer_version: str = SERIALIZER_VERSION):
    """The spec objects of a stored spec, migrated first when written in an older format."""
    dct = migrate_spec_dict(json.loads(text), serializer_version)
    registry = SERIALIZER.registry
    spec = registry.restore(dct["spec"])
    subprocess_specs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


__all__ = ["ENGINE_VERSION", "SERIALIZER_VERSION", "MigrationError", "dump_state", "load_state",
           "migrate_workflow_dict", "new_workflow"]
