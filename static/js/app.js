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

// A bulk job's page: the status section is polled and swapped every second, so it
// carries no live region itself. State changes and the final outcome are spoken
// once through #job-announcer; a job that ends while the tab is hidden changes the
// tab's title and shows #job-ended-notice (Page Visibility API).
(function () {
  var lastState = null;
  var originalTitle = document.title;
  var endedUnseen = false;

  function jobSection() {
    return document.getElementById("operation-status");
  }

  function endedText(section) {
    return section.dataset.jobName + " " + section.dataset.jobStateLabel.toLowerCase() +
      (section.dataset.jobOutcome ? ": " + section.dataset.jobOutcome : ".");
  }

  function announce(text) {
    var announcer = document.getElementById("job-announcer");
    if (announcer) announcer.textContent = text;
  }

  function tellHiddenTab(section) {
    var mark = section.dataset.jobState === "finished" ? "✓ " : "⚠ ";
    document.title = mark + section.dataset.jobStateLabel + " — " + section.dataset.jobName;
    var notice = document.getElementById("job-ended-notice");
    if (notice) {
      notice.textContent = endedText(section) + " It ended while this tab was in the background.";
      notice.hidden = false;
    }
    endedUnseen = true;
  }

  function onStatus() {
    var section = jobSection();
    if (!section) return;
    var state = section.dataset.jobState;
    if (lastState === null) {
      lastState = state;  // the page as loaded: nothing has changed yet
      return;
    }
    if (state === lastState) return;
    lastState = state;
    if (section.dataset.jobActive === "true") {
      announce(section.dataset.jobName + ": " + section.dataset.jobStateLabel.toLowerCase() + ".");
      return;
    }
    announce(endedText(section));
    if (document.visibilityState === "hidden") tellHiddenTab(section);
  }

  document.addEventListener("DOMContentLoaded", onStatus);
  document.addEventListener("htmx:afterSettle", onStatus);
  document.addEventListener("visibilitychange", function () {
    // Back in the tab: the notice stays on the page, the title returns to normal.
    if (document.visibilityState === "visible" && endedUnseen) {
      document.title = originalTitle;
      endedUnseen = false;
    }
  });
})();
