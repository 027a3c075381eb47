/* Case page: the grid map (Leaflet, no tile server: the grid polygons are the map) and the
   process diagram (bpmn-js viewer) with the current steps marked. */
(function () {
  "use strict";

  /* Names are text: Leaflet puts a string tooltip in as HTML, an element as it is. */
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function drawMap() {
    var el = document.getElementById("case-map");
    var source = document.getElementById("case-map-data");
    if (!el || !source || !window.L) return;
    var data = JSON.parse(source.textContent);
    var map = L.map(el, {zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: false});
    var own = null;
    var grids = L.geoJSON(data.grids, {
      style: function (f) {
        return f.properties.own
          ? {color: "#0b6bcb", weight: 3, fillColor: "#0b6bcb", fillOpacity: 0.15}
          : {color: "#7a8794", weight: 1, dashArray: "4 3", fillColor: "#c5ced8", fillOpacity: 0.12};
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(textNode(f.properties.code + " " + f.properties.name), {sticky: true});
        if (f.properties.own) own = layer;
      }
    });
    /* The view first: Leaflet draws vectors only on a map that has one. */
    var bounds = own ? own.getBounds() : grids.getBounds();
    if (data.point) {
      bounds = bounds.isValid() ? bounds.extend(data.point) : L.latLngBounds([data.point, data.point]);
    }
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.5), {maxZoom: 18});
    else map.setView([0, 0], 2);
    grids.addTo(map);
    if (data.point) {
      L.circleMarker(data.point, {radius: 9, color: "#fff", weight: 3, fillColor: "#c0392b", fillOpacity: 1})
        .addTo(map);
    }
  }

  function drawDiagram() {
    var el = document.getElementById("case-diagram");
    if (!el || !window.BpmnJS) return;
    var current = JSON.parse(el.dataset.current || "[]");
    var done = JSON.parse(el.dataset.done || "[]");
    var viewer = new window.BpmnJS({container: el});
    fetch(el.dataset.src, {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        done.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "step-done"); });
        current.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "step-current"); });
        canvas.zoom("fit-viewport");
        var first = current.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
        /* On a phone the whole process is too small to read: centre on the current step. */
        if (first && el.clientWidth < 700) {
          var width = 700, height = width * el.clientHeight / el.clientWidth;
          canvas.viewbox({x: first.x + first.width / 2 - width / 2, y: first.y + first.height / 2 - height / 2,
                          width: width, height: height});
        }
        el.classList.add("ready");
      })
      .catch(function () { el.textContent = el.dataset.failed; });
  }

  drawMap();
  drawDiagram();
})();
