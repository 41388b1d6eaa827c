// Progressive enhancement only: every page works without it. A file, not inline script: the
// pages' Content Security Policy allows scripts from this site only.
(function () {
  // A form sent back with errors: keyboard and screen-reader users land on the summary.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // A link in the summary puts the caret in the field it names, not only scrolls to it.
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      if (!field) return;
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  });
})();
