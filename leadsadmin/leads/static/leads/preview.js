// The preview follows the filter only when Preview is pressed. Until then, once the
// builder's conditions differ from those the preview was made from, the count and
// the table are marked "Out of date: press Preview".
// When results arrive after Preview, a sort or a page link, the focus moves to them
// (the control that asked for them is gone or far away).
(function () {
  var previewed = null;
  var focusAfter = null; // what to focus once the asked-for results are in

  // The filled-in conditions, whatever their row numbers: adding a blank row or
  // typing in a search box changes nothing the preview depends on.
  function conditions() {
    var form = document.getElementById("filter-form");
    if (!form) return "";
    return Array.prototype.map.call(form.querySelectorAll(".condition"), function (row) {
      var parts = [];
      row.querySelectorAll("[name]").forEach(function (control) {
        if (control.disabled || control.name.indexOf("find") === 0) return;
        if (control.type === "checkbox" && !control.checked) return;
        parts.push(control.name.replace(/\d+$/, "") + "=" + control.value);
      });
      return parts.join("&");
    }).filter(function (row) { return !/(^|&)f=(&|$)/.test(row); }).join("|");
  }

  function markStale() {
    var preview = document.getElementById("preview");
    var note = document.getElementById("stale-note");
    if (!preview || !note || previewed === null) return;
    var stale = conditions() !== previewed;
    preview.classList.toggle("is-stale", stale);
    note.hidden = !stale;
  }

  // Ticking a box sends the selection at once; its button is for pages without JavaScript.
  function remember() {
    previewed = conditions();
    markStale();
    document.querySelectorAll(".selection-update").forEach(function (button) {
      button.hidden = true;
    });
  }

  document.addEventListener("input", markStale);
  document.addEventListener("change", markStale);
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (event.target.id === "filter-form" && !(button && button.name === "do")) {
      focusAfter = ".match-count";
    }
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.closest("thead")) {
      var th = elt.closest("th");
      var column = Array.prototype.indexOf.call(th.parentElement.children, th) + 1;
      focusAfter = "#preview thead th:nth-child(" + column + ") a";
    } else if (elt.id === "selection-form") {
      focusAfter = null; // htmx puts the focus back on the ticked box (same id)
    } else if (elt.closest("#preview") || elt.id === "page-size") {
      focusAfter = ".match-count";
    }
  });
  // After a history restore (Back) the body is a page as loaded: its preview is
  // up to date. Its settle names no target, so it is told apart by that.
  document.addEventListener("htmx:historyRestore", function () {
    focusAfter = null;
    remember();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    var id = target.id;
    if (id === "workspace" || id === "preview") {
      remember();
      var goal = focusAfter && document.querySelector(focusAfter);
      if (goal) goal.focus();
      focusAfter = null;
    } else {
      markStale();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", remember);
  } else {
    remember();
  }
})();
