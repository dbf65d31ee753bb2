/* A "Copy" button beside each secret shown once (an API client's secret, a webhook's
   signing secret, recovery codes, the authenticator key). An enhancement only: without
   JavaScript the secret is plain, selectable text and there is no button.

   Markup: the element holding the secret has data-copy, and data-copy-label (the
   button's text) and data-copied (what a screen reader is told) in the page's language.
   data-copy-compact copies without spaces (the authenticator key is shown in groups). */
(function () {
  "use strict";

  var targets = document.querySelectorAll("[data-copy]");
  if (!targets.length) return;

  /* One polite live region for the page: "Copied" is announced without moving focus. */
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.id = "copy-status";
  document.body.appendChild(status);

  function textOf(element) {
    var items = element.querySelectorAll("li");
    var text = items.length
      ? Array.prototype.map.call(items, function (item) { return item.textContent.trim(); }).join("\n")
      : element.textContent.trim();
    return element.hasAttribute("data-copy-compact") ? text.replace(/\s+/g, "") : text;
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* The older way, for a browser without the Clipboard API (or an http:// address that
     is not localhost, where it is missing): copy the selected text. */
  function copyBySelection(element) {
    selectContents(element);
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (error) {
      done = false;
    }
    return done;
  }

  function announce(message, button) {
    /* Emptied first, so that copying twice is announced twice. */
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
    button.classList.add("copied");
    button.textContent = message;
    window.setTimeout(function () {
      button.textContent = button.dataset.label;
      button.classList.remove("copied");
    }, 3000);
  }

  Array.prototype.forEach.call(targets, function (element) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-secondary copy-button";
    button.dataset.label = element.dataset.copyLabel || "Copy";
    button.textContent = button.dataset.label;
    if (element.id) button.setAttribute("aria-controls", element.id);
    var copied = element.dataset.copied || "Copied";
    var failed = element.dataset.copyFailed || "Select the text and copy it yourself.";
    button.addEventListener("click", function () {
      var text = textOf(element);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { announce(copied, button); },
          function () { announce(copyBySelection(element) ? copied : failed, button); }
        );
      } else {
        announce(copyBySelection(element) ? copied : failed, button);
      }
    });
    element.insertAdjacentElement("afterend", button);
  });
})();
