/* The filing form, made quicker with JavaScript. Everything here is an enhancement: without
   it the form works the same way, through the server (the "Add another item" button
   re-renders the page with one more row; the substance lists are plain selects). */
(function () {
  "use strict";

  var form = document.getElementById("filing-form");
  if (!form) return;

  /* After a refused submission, start at the list of problems (each links to its field). */
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  /* A search box above each substance list: typing part of a name, a CAS number or an
     HS code narrows the list to the matching substances. */
  function enhancePicker(select) {
    if (select.dataset.enhanced) return;
    select.dataset.enhanced = "1";
    var master = select.cloneNode(true);
    var box = document.createElement("input");
    box.type = "search";
    box.className = "substance-search";
    box.id = select.id + "_search";
    box.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "hint";
    label.textContent = form.dataset.searchLabel || "Find by name, CAS number or HS code";
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(status, select);

    box.addEventListener("input", function () {
      var term = box.value.trim().toLowerCase();
      var chosen = select.value;
      select.innerHTML = "";
      var matches = 0;
      Array.prototype.forEach.call(master.children, function (node) {
        if (!term) {
          select.appendChild(node.cloneNode(true));
          return;
        }
        var options = node.tagName === "OPTGROUP" ? node.children : [node];
        var group = null;
        Array.prototype.forEach.call(options, function (option) {
          if (!option.value || option.textContent.toLowerCase().indexOf(term) === -1) return;
          if (node.tagName === "OPTGROUP" && !group) {
            group = node.cloneNode(false);
            select.appendChild(group);
          }
          (group || select).appendChild(option.cloneNode(true));
          matches += 1;
        });
      });
      if (term && matches === 0) {
        var none = document.createElement("option");
        none.value = "";
        none.textContent = form.dataset.noMatch || "No substance matches";
        select.appendChild(none);
      }
      select.value = chosen;
      if (term && select.value !== chosen && matches > 0) select.selectedIndex = 0;
      status.textContent = term ? matches + " " + (form.dataset.matchesLabel || "matching substances") : "";
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("select.substance-picker"), enhancePicker);

  /* "Add another item" adds a row in place instead of reloading the page. */
  var addButton = document.getElementById("add-item");
  var template = document.getElementById("item-template");
  var rows = document.getElementById("item-rows");
  var total = form.querySelector("input[name=items-TOTAL_FORMS]");
  var max = form.querySelector("input[name=items-MAX_NUM_FORMS]");
  if (addButton && template && rows && total) {
    addButton.addEventListener("click", function (event) {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return; // let the server explain
      event.preventDefault();
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var picker = row.querySelector("select.substance-picker");
      if (picker) enhancePicker(picker);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
  }

  /* The reply-due hint follows the importing country's declared period. */
  var periods = document.getElementById("reply-periods");
  var country = document.getElementById("id_importing_country");
  var hint = document.getElementById("id_reply_due_helptext");
  if (periods && country && hint) {
    var byCountry = JSON.parse(periods.textContent);
    country.addEventListener("change", function () {
      hint.textContent = byCountry[country.value] || byCountry[""];
    });
  }

  /* The importing country's silence record, as soon as it is picked. */
  var signalBox = document.getElementById("importing-signal");
  var countrySelect = document.getElementById("id_importing_country");
  if (signalBox && countrySelect && window.fetch) {
    countrySelect.addEventListener("change", function () {
      if (!countrySelect.value) {
        signalBox.innerHTML = "";
        return;
      }
      var url = signalBox.dataset.url.replace("XX", encodeURIComponent(countrySelect.value));
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { signalBox.innerHTML = data ? data.html : ""; })
        .catch(function () { signalBox.innerHTML = ""; });
    });
  }

  /* The kind first: a scheduled notification does not show what only a voluntary one asks
     (the suspicion, chemicals on no list). Without JavaScript everything stays visible,
     each marked with the kind it is for. New item rows are covered too (a class on the
     form, not on each element). */
  var kinds = form.querySelectorAll("input[name=kind]");
  function showKind() {
    var chosen = form.querySelector("input[name=kind]:checked");
    var voluntary = chosen && chosen.value === "voluntary";
    form.classList.toggle("kind-voluntary", !!voluntary);
    form.classList.toggle("kind-scheduled", !voluntary);
  }
  if (kinds.length) {
    Array.prototype.forEach.call(kinds, function (radio) { radio.addEventListener("change", showKind); });
    showKind();
  }
})();
