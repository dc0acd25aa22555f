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
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) { ui.triggerSearch(query); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
