/* Resident request form: place (address list, map point, my location) and photo checks.
   Everything is checked again on the server; this only helps people fill the form in. */
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var data = form.dataset;
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var status = document.getElementById("place-status");
  var marker = document.getElementById("marker");
  var svg = document.getElementById("grid-map");

  function checkedMode() {
    var checked = form.querySelector("input[name=place]:checked");
    return checked ? checked.value : "address";
  }
  function showMode() {
    var mode = checkedMode();
    form.querySelectorAll("[data-place]").forEach(function (part) { part.hidden = part.dataset.place !== mode; });
  }
  function setPoint(latValue, lonValue, words) {
    lat.value = latValue.toFixed(6);
    lon.value = lonValue.toFixed(6);
    status.textContent = words + ": " + lat.value + ", " + lon.value;
  }
  form.querySelectorAll("input[name=place]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      lat.value = ""; lon.value = ""; status.textContent = "";
      if (marker) { marker.setAttribute("visibility", "hidden"); }
      showMode();
      if (checkedMode() === "here") { locate(); }
    });
  });
  showMode();

  /* Address list: community -> building -> unit -> room (the room's value is the address id). */
  var community = document.getElementById("community");
  var building = document.getElementById("building");
  var unit = document.getElementById("unit");
  var room = document.getElementById("room");
  var tree = null;
  var selected = JSON.parse(data.selected || "null");

  function fill(select, items, chosen) {
    select.innerHTML = "";
    var first = document.createElement("option");
    first.value = ""; first.textContent = data.msgChoose;
    select.appendChild(first);
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.value; option.textContent = item.label;
      if (chosen !== undefined && chosen !== null && String(item.value) === String(chosen)) { option.selected = true; }
      select.appendChild(option);
    });
  }
  function currentBuilding() {
    return tree ? tree.buildings.find(function (b) { return b.name === building.value; }) : null;
  }
  function currentUnit() {
    var b = currentBuilding();
    return b ? b.units.find(function (u) { return u.name === unit.value; }) : null;
  }
  function fillUnits(chosen) {
    var b = currentBuilding();
    fill(unit, b ? b.units.map(function (u) { return {value: u.name, label: u.name}; }) : [], chosen);
  }
  function fillRooms(chosen) {
    var u = currentUnit();
    fill(room, u ? u.rooms.map(function (r) { return {value: r.id, label: r.name}; }) : [], chosen);
  }
  function loadCommunity(code, pre) {
    fill(building, []); fill(unit, []); fill(room, []);
    tree = null;
    if (!code) { return; }
    fetch(data.addresses.replace("__code__", encodeURIComponent(code)))
      .then(function (response) { return response.json(); })
      .then(function (json) {
        tree = json;
        fill(building, json.buildings.map(function (b) { return {value: b.name, label: b.name}; }), pre && pre.building);
        fillUnits(pre && pre.unit);
        fillRooms(pre && pre.id);
      });
  }
  if (community) {
    community.addEventListener("change", function () { loadCommunity(community.value); });
    building.addEventListener("change", function () { fillUnits(); fillRooms(); });
    unit.addEventListener("change", function () { fillRooms(); });
    if (community.value) { loadCommunity(community.value, selected); }
    else if (community.options.length === 2) { community.selectedIndex = 1; loadCommunity(community.value); }
  }

  /* Map: a tap becomes a point (the SVG is drawn in a plane scaled from lon/lat). */
  if (svg) {
    /* Set here, not in a style attribute: the Content-Security-Policy allows no inline styles. */
    svg.style.width = svg.dataset.cssWidth || "100%";
    var west = parseFloat(svg.dataset.west), north = parseFloat(svg.dataset.north);
    var xScale = parseFloat(svg.dataset.xScale), yScale = parseFloat(svg.dataset.yScale);
    svg.addEventListener("click", function (event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      var local = point.matrixTransform(svg.getScreenCTM().inverse());
      marker.setAttribute("transform", "translate(" + local.x + " " + local.y + ")");
      marker.setAttribute("visibility", "visible");
      setPoint(north - local.y / yScale, west + local.x / xScale, data.msgPoint);
    });
  }

  /* My location. */
  var locateButton = document.getElementById("locate");
  function locate() {
    if (!navigator.geolocation) { status.textContent = data.msgNoGeo; return; }
    status.textContent = data.msgLocating;
    navigator.geolocation.getCurrentPosition(function (position) {
      setPoint(position.coords.latitude, position.coords.longitude, data.msgLocated);
    }, function () {
      status.textContent = data.msgLocateFailed;
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }
  if (locateButton) { locateButton.addEventListener("click", locate); }

  /* Photos: at most N, previewed before sending. */
  var photos = document.getElementById("photos");
  var previews = document.getElementById("previews");
  var photoStatus = document.getElementById("photo-status");
  var maxPhotos = parseInt(data.maxPhotos, 10);
  if (photos) {
    photos.addEventListener("change", function () {
      previews.innerHTML = ""; photoStatus.textContent = "";
      if (photos.files.length > maxPhotos) {
        photoStatus.textContent = data.msgTooMany;
        photos.value = "";
        return;
      }
      Array.prototype.forEach.call(photos.files, function (file) {
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        previews.appendChild(img);
      });
    });
  }
})();
