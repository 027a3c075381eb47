/* Process editor: a .bpmn file in the bpmn-js modeler with a small panel for the project's own
   step properties (spiffworkflow:property stepKind, formKey, caseStatus, dueData; a lane's
   role), a .dmn file in dmn-js's decision table editor. "Deploy" sends the XML to the page
   route, which runs the same checks as POST /api/v1/processes and answers 201, 200 or 422
   with the list of problems. */
(function () {
  "use strict";

  var SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  /* Only what the panel reads and writes: anything else under extensionElements survives
     as bpmn-js keeps unknown elements as they are. */
  var SPIFF_MODDLE = {
    name: "SpiffWorkflow",
    uri: SPIFF_URI,
    prefix: "spiffworkflow",
    xml: {tagAlias: "lowerCase"},
    associations: [],
    types: [
      {name: "Properties", superClass: ["Element"],
       properties: [{name: "properties", type: "Property", isMany: true}]},
      {name: "Property", superClass: ["Element"],
       properties: [{name: "name", type: "String", isAttr: true},
                    {name: "value", type: "String", isAttr: true}]},
      {name: "CalledDecisionId", superClass: ["Element"],
       properties: [{name: "value", type: "String", isBody: true}]}
    ]
  };
  var TASK_FIELDS = ["stepKind", "formKey", "caseStatus", "dueData"];
  var LANE_FIELDS = ["role"];

  var data = JSON.parse(document.getElementById("editor-data").textContent);
  var words = document.querySelector(".deploy-messages").dataset;
  var canvasEl = document.getElementById("editor-canvas");
  var deployButton = document.getElementById("deploy");
  var statusEl = document.getElementById("deploy-status");
  var problemsEl = document.getElementById("deploy-problems");
  var modeler = null;

  /* data-state (working, deployed, unchanged, refused, failed) is for styles and tests. */
  function say(state, text) { statusEl.dataset.state = state; statusEl.textContent = text; }

  function showProblems(problems) {
    problemsEl.textContent = "";
    (problems || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p;
      problemsEl.appendChild(li);
    });
    problemsEl.hidden = !(problems && problems.length);
  }

  /* ---- the step panel (bpmn only) ---- */

  function spiffProperties(bo) {
    var ext = bo.extensionElements;
    var values = (ext && ext.values) || [];
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === "spiffworkflow:Properties") return values[i];
    }
    return null;
  }

  function propertyOf(bo, name) {
    var props = spiffProperties(bo);
    var list = (props && props.properties) || [];
    for (var i = 0; i < list.length; i++) if (list[i].name === name) return list[i];
    return null;
  }

  /* Every change goes through modeling, so that undo and redo take it back. */
  function setProperty(element, name, value) {
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create("bpmn:ExtensionElements", {values: []});
      ext.$parent = bo;
      modeling.updateProperties(element, {extensionElements: ext});
    }
    var props = spiffProperties(bo);
    if (!props) {
      props = moddle.create("spiffworkflow:Properties", {properties: []});
      props.$parent = ext;
      modeling.updateModdleProperties(element, ext, {values: (ext.values || []).concat([props])});
    }
    var property = propertyOf(bo, name);
    if (property && (property.value || "") === value) return; /* no empty step on the undo stack */
    if (property) {
      modeling.updateModdleProperties(element, property, {value: value});
    } else {
      property = moddle.create("spiffworkflow:Property", {name: name, value: value});
      property.$parent = props;
      modeling.updateModdleProperties(element, props, {properties: (props.properties || []).concat([property])});
    }
  }

  function panelFor(element) {
    var panel = document.getElementById("step-panel");
    var type = element && element.businessObject && element.businessObject.$type;
    var fields = type === "bpmn:UserTask" ? TASK_FIELDS : type === "bpmn:Lane" ? LANE_FIELDS : null;
    panel.hidden = !fields;
    if (!fields) return;
    panel.dataset.element = element.id;
    panel.querySelector(".task-fields").hidden = fields !== TASK_FIELDS;
    panel.querySelector(".lane-fields").hidden = fields !== LANE_FIELDS;
    document.getElementById("step-title").textContent = (element.businessObject.name || "") + " (" + element.id + ")";
    fields.forEach(function (name) {
      var input = panel.querySelector("[name=" + name + "]");
      var property = propertyOf(element.businessObject, name);
      var value = property ? property.value || "" : "";
      if (input.tagName === "SELECT" && value && !input.querySelector("option[value='" + CSS.escape(value) + "']")) {
        var option = document.createElement("option"); /* an older word: shown, not lost */
        option.value = option.textContent = value;
        input.appendChild(option);
      }
      input.value = value;
    });
  }

  function wirePanel() {
    var panel = document.getElementById("step-panel");
    var registry = modeler.get("elementRegistry");
    var selection = modeler.get("selection");
    panel.querySelectorAll("select, input").forEach(function (input) {
      input.addEventListener("change", function () {
        var element = registry.get(panel.dataset.element);
        if (element) setProperty(element, input.name, input.value);
      });
    });
    modeler.on("selection.changed", function (e) {
      panelFor(e.newSelection.length === 1 ? e.newSelection[0] : null);
    });
    /* Undo and redo clear the selection: the panel keeps its element and shows what it now says. */
    modeler.on("commandStack.changed", function () {
      var selected = selection.get();
      panelFor(selected.length === 1 ? selected[0] : registry.get(panel.dataset.element || ""));
    });
  }

  /* ---- opening and deploying ---- */

  function openBpmn(xml) {
    /* keyboard.bind: undo, redo, delete... when the diagram has the focus. */
    modeler = new window.BpmnJS({container: canvasEl, keyboard: {bind: true},
                                 moddleExtensions: {spiffworkflow: SPIFF_MODDLE}});
    return modeler.importXML(xml).then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      wirePanel();
    });
  }

  function openDmn(xml) {
    modeler = new window.DmnJS({container: canvasEl});
    return modeler.importXML(xml).then(function () {
      var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
      if (table) return modeler.open(table);
      return null;
    });
  }

  function deploy() {
    deployButton.disabled = true;
    say("working", words.working);
    showProblems([]);
    modeler.saveXML({format: true}).then(function (result) {
      return fetch(data.deploy, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/xml", "X-CSRFToken": document.getElementById("csrf-token").value,
                  "Accept": "application/json"},
        body: result.xml
      });
    }).then(function (response) {
      return response.json().then(function (body) { return {status: response.status, body: body}; });
    }).then(function (answer) {
      if (answer.status === 201) {
        document.getElementById("file-version").textContent = answer.body.version;
        say("deployed", words.deployed + " " + answer.body.version);
      } else if (answer.status === 200) {
        say("unchanged", words.unchanged);
      } else if (answer.status === 422) {
        say("refused", words.refused);
        showProblems(answer.body.problems || (answer.body.details || {}).problems);
      } else {
        say("failed", words.failed + " " + (answer.body.message || answer.status));
      }
    }).catch(function (err) {
      say("failed", words.failed + " " + err.message);
    }).then(function () {
      deployButton.disabled = false;
    });
  }

  fetch(data.source, {credentials: "same-origin"})
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
    .then(function (xml) { return data.kind === "dmn" ? openDmn(xml) : openBpmn(xml); })
    .then(function () {
      canvasEl.classList.add("ready");
      deployButton.disabled = false;
      deployButton.addEventListener("click", deploy);
    })
    .catch(function (err) { say("failed", words.failed + " " + err.message); });
}());
