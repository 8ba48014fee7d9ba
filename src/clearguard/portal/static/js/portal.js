// The portal's only page-wide script (no inline scripts: the CSP forbids them).
// After an hx-boost navigation, focus moves to the new page's main content for screen readers.
document.addEventListener("htmx:afterSettle", function (event) {
  if (event.detail && event.detail.boosted) {
    var main = document.getElementById("main");
    if (main) { main.focus({ preventScroll: true }); }
  }
});
