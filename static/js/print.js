// The print view's "Print this page" button (templates/notifications/print.html): hidden in
// the HTML, so that without JavaScript nobody sees a button that does nothing; the
// browser's own Print command prints the same page.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
