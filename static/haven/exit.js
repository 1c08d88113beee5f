// "Leave this site quickly": without JavaScript it is a plain link; with it, the page
// also replaces itself in the history so that Back does not return here, and the
// Escape key pressed three times does the same.
(function () {
  "use strict";
  function leave(event) {
    var link = document.querySelector("[data-quick-exit]");
    if (!link) { return; }
    if (event) { event.preventDefault(); }
    try { document.body.innerHTML = ""; } catch (e) { /* keep going */ }
    window.location.replace(link.href);
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-quick-exit]") : null;
    if (target) { leave(event); }
  });
  var presses = 0, timer = null;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 1500);
    if (presses >= 3) { leave(event); }
  });
}());
