// Shows a banner when an htmx request fails outright (network down, 5xx that the
// view did not render itself) so that no click ends in silence.
(function () {
  function show(text) {
    var box = document.getElementById("request-error");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-error");
    if (box) box.hidden = true;
  });
  document.addEventListener("htmx:sendError", function () {
    show("The server could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403) {
      show("You don't have permission to do that.");
    } else {
      show("The request failed (HTTP " + status + "). Nothing was lost: try again.");
    }
  });
})();
