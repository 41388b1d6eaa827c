// The print button of a printed form. A file, not inline script: the pages' Content Security
// Policy allows scripts from this site only.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
