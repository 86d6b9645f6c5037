/* rtcompute console: a form with `data-confirm` asks before it is sent (deleting a bucket,
   releasing a cluster). Here rather than in an onsubmit attribute: the console's content
   security policy runs no inline code. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
