// Lists of options under "is any of" and the like are checkboxes; a text box above
// them hides those that do not contain what is typed. Without JavaScript the box
// would do nothing, so it stays hidden until this script shows it.
(function () {
  function reveal(root) {
    root.querySelectorAll(".option-filter[hidden]").forEach(function (box) {
      box.hidden = false;
    });
  }

  function narrow(box) {
    var words = box.value.trim().toLowerCase();
    var list = document.getElementById(box.getAttribute("aria-controls"));
    list.querySelectorAll("label").forEach(function (label) {
      label.hidden = words !== "" && label.textContent.toLowerCase().indexOf(words) === -1;
    });
  }

  // The "Chosen: …" line under the list: the chosen boxes may be scrolled or filtered away.
  function sayChosen(picker) {
    var chosen = [];
    picker.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      chosen.push(box.parentElement.textContent.trim());
    });
    var line = document.getElementById(picker.getAttribute("aria-describedby").split(" ").pop());
    line.querySelector(".chosen-text").textContent = chosen.length ? chosen.join(", ") : "nothing chosen yet";
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches(".option-filter")) narrow(event.target);
  });
  document.addEventListener("change", function (event) {
    var picker = event.target.closest(".option-picker");
    if (picker && event.target.type === "checkbox") sayChosen(picker);
  });
  // Enter in the filter box narrows the list; it must not send the form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches(".option-filter")) event.preventDefault();
  });
  // A row swapped in after its field changed: the focus was on a control the swap
  // removed (Tab from the search box skips the still-disabled operator), so it is
  // put on the row's operator, the next thing to choose.
  function refocus(target) {
    if (!target || !/^condition-\d+$/.test(target.id) || document.activeElement !== document.body) return;
    var row = document.getElementById(target.id);
    if (!row) return;
    (row.querySelector("select[name^=op]:not([disabled])") || row.querySelector("select")).focus();
  }

  // A history restore (Back) swaps the whole body and names no target.
  document.addEventListener("htmx:afterSettle", function (event) {
    reveal(event.detail.elt);
    refocus(event.detail.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
})();
