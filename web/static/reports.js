/* Reports page: show the date fields of the chosen period; follow the builds that are not
   finished (they run in a worker) and reload when one is ready. */
(function () {
  "use strict";
  var names = JSON.parse(document.getElementById("report-names").textContent);
  var period = document.getElementById("period");

  function showPeriodFields() {
    document.querySelectorAll("[data-period]").forEach(function (el) {
      el.style.display = el.getAttribute("data-period") === period.value ? "" : "none";
    });
  }
  if (period) {
    period.addEventListener("change", showPeriodFields);
    showPeriodFields();
  }

  function poll() {
    var rows = document.querySelectorAll('tr[data-status="queued"], tr[data-status="running"]');
    if (!rows.length) return;
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-status-url"), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
          var text = names.status[s.status] || s.status;
          if (s.stage) text += "（" + (names.stage[s.stage] || s.stage) + "）";
          row.querySelector(".status").textContent = text;
        });
    });
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
