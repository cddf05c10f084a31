// Progressive enhancement of a bulk form (templates/result/_macros.html, verify_selected_form): a
// box beside the form's button ticks or clears every row box that belongs to the form it names.
// Without script the box (and its label) stays hidden and each row is ticked by hand.
"use strict";
document.querySelectorAll("input[data-select-all]").forEach(function (all) {
  var boxes = function () {
    return document.querySelectorAll(
      'input[type=checkbox][form="' + all.getAttribute("data-select-all") + '"]'
    );
  };
  if (boxes().length === 0) return;
  (all.closest("label") || all).hidden = false;
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
});
