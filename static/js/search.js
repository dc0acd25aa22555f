// Start Pagefind's search UI on the search page, and run the query from ?q= (the header box).
(function () {
  "use strict";
  function start() {
    var host = document.getElementById("search");
    if (!host || typeof PagefindUI === "undefined") { return; }
    var ui = new PagefindUI({
      element: "#search",
      bundlePath: host.dataset.bundlePath,
      baseUrl: host.dataset.baseUrl,
      showSubResults: true,
      showImages: false,
      resetStyles: false
    });
    labelInput(host);
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) { ui.triggerSearch(query); }
  }
  // Pagefind's box has only a placeholder: give it a visible label, for everyone.
  function labelInput(host) {
    var input = host.querySelector(".pagefind-ui__search-input");
    if (!input) { window.requestAnimationFrame(function () { labelInput(host); }); return; }
    input.id = "search-terms";
    var label = document.createElement("label");
    label.htmlFor = "search-terms";
    label.className = "search-label";
    label.textContent = "Words to find";
    host.insertBefore(label, host.firstChild);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
