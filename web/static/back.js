/* "Back" on error pages: the previous page when there is one (keeps what a form held), else home.
   A static file: the Content-Security-Policy allows no javascript: links or inline handlers. */
(function () {
  "use strict";
  document.querySelectorAll("[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
})();
