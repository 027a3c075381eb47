/* Inbox: new tasks appear without a reload (polling), deadlines count down, photos of a
   disposal can be removed before sending. No framework, no outside requests. */
(function () {
  "use strict";

  var root = document.getElementById("inbox");
  var conf = document.querySelector("[data-units]") || document.body;

  /* "2小时5分钟" / "2 h 5 min": the largest two units, like the server writes them. */
  function span(ms) {
    var units = (conf.dataset.units || "d,h,min").split(",");
    var sep = conf.dataset.unitSep === undefined ? " " : conf.dataset.unitSep;
    var minutes = Math.max(Math.floor(ms / 60000), 0);
    var parts = [], amounts = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
    for (var i = 0; i < 3; i++) { if (amounts[i]) parts.push(amounts[i] + units[i]); }
    return parts.length ? parts.slice(0, 2).join(sep) : "<1" + units[2];
  }

  function tick() {
    if (!conf.dataset.left) return;
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var over = due < now;
      el.textContent = (over ? conf.dataset.overdue : conf.dataset.left).replace("{t}", span(Math.abs(due - now)));
      el.classList.toggle("overdue", over);
      var card = el.closest(".task");
      if (card) card.classList.toggle("is-overdue", over);
    });
  }

  function poll() {
    var known = {count: +root.dataset.count, newest: +root.dataset.newest};
    var seconds = Math.max(+root.dataset.pollSeconds || 5, 2);
    var notice = document.getElementById("new-tasks");
    var unseen = 0, signedOut = false;

    function refresh(fresh) {
      return fetch(root.dataset.fragment, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var list = document.getElementById("task-list");
          list.innerHTML = html;
          var sig = document.getElementById("inbox-signature");
          if (sig) { root.dataset.count = sig.dataset.count; root.dataset.newest = sig.dataset.newest; }
          var count = document.getElementById("inbox-count");
          if (count && sig) count.textContent = count.textContent.replace(/\d+/, sig.dataset.count);
          if (fresh > 0) {
            unseen += fresh;
            notice.textContent = root.dataset.newTasks.replace("{n}", unseen);
            notice.hidden = false;
            document.title = "(" + unseen + ") " + document.title.replace(/^\(\d+\) /, "");
            list.querySelectorAll(".task").forEach(function (card) {
              if (+card.dataset.task > known.newest) card.classList.add("is-new");
            });
            if (navigator.vibrate) navigator.vibrate(200);
          }
          tick();
        });
    }

    function check() {
      if (document.hidden) return schedule();
      fetch(root.dataset.updates + "?since=" + root.dataset.newest,
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (r.redirected && r.url.indexOf("/login") !== -1) { signedOut = true; throw new Error("signed out"); }
          var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!r.ok || !json) throw new Error("unavailable");
          return r.json();
        })
        .then(function (sig) {
          if (notice.classList.contains("offline")) { notice.classList.remove("offline"); notice.hidden = true; }
          known = {count: +root.dataset.count, newest: +root.dataset.newest};
          if (sig.count !== known.count || sig.newest !== known.newest) return refresh(sig.fresh);
        })
        .catch(function () {
          notice.textContent = signedOut ? root.dataset.signedOut : root.dataset.offline;
          notice.classList.add("offline");
          notice.hidden = false;
        })
        .then(function () { if (!signedOut) schedule(); });
    }

    function schedule() { window.setTimeout(check, seconds * 1000); }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { unseen = 0; document.title = document.title.replace(/^\(\d+\) /, ""); }
    });
    schedule();
  }

  /* A kept photo of a disposal can be dropped before the form is sent again. */
  document.querySelectorAll(".remove-photo").forEach(function (button) {
    button.addEventListener("click", function () { button.closest(".thumb").remove(); });
  });

  if (root) poll();
  tick();
  window.setInterval(tick, 30000);
})();
