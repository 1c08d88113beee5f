// "Copy the code": only with JavaScript; without it the code sits in a read-only field
// that can be selected and copied by hand, so the button stays hidden.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-copied");
      }, function () {
        field.select();
      });
    });
  });
}());
