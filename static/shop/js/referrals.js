/* Invite page: a "Copy link" button beside the read-only share link (hidden without
   JavaScript, where the link is selected and copied by hand). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-mv-copy]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-mv-copy"));
    var status = button.parentNode.querySelector("[data-mv-copied]");
    if (!input) { return; }
    button.hidden = false;
    input.addEventListener("focus", function () { input.select(); });
    button.addEventListener("click", function () {
      function done(text) { if (status) { status.textContent = text; } }
      input.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(
          function () { done("Link copied."); },
          function () { done("Press Ctrl+C (or Cmd+C) to copy the selected link."); }
        );
      } else {
        try {
          done(document.execCommand("copy") ? "Link copied." : "Press Ctrl+C (or Cmd+C) to copy the selected link.");
        } catch (e) {
          done("Press Ctrl+C (or Cmd+C) to copy the selected link.");
        }
      }
    });
  });
}());
