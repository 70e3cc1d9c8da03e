// The lead detail side panel closes with Escape, as a dialog does, and gives the
// focus back to the link that opened it. (htmx's key filters, hx-trigger="keyup[...]",
// need eval, which the Content-Security-Policy forbids.)
(function () {
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "lead-detail" && event.detail.elt.tagName === "A") {
      opener = event.detail.elt;
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var close = document.querySelector("#lead-detail .lead-panel-close");
    if (close) {
      event.preventDefault();
      close.click();
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target; // none when a history restore (Back) swaps the body
    if (!target || target.id !== "lead-detail" || target.children.length) return;
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });
})();
