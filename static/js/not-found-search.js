// The 404 page: the articles closest to the words of the address that was not found
// (any of them, best first), through the search index (search.js). Under a sub-path
// (/archive/) the sub-path itself is left out.
(function () {
  "use strict";
  var SHOWN = 5;
  var NOISE = new Set(["html", "htm", "index", "php", "aspx", "amp", "www", "http", "https"]);
  function start() {
    var host = document.getElementById("not-found");
    var search = window.BroadsheetSearch;
    if (!host || !search) { return; }
    var base = host.dataset.baseUrl, path = window.location.pathname;
    if (path.startsWith(base)) { path = path.slice(base.length); }
    try { path = decodeURIComponent(path); } catch (error) { /* keep it as it is */ }
    var seen = new Set(), units = [];
    search.words(path.replace(/[-_./+]+/g, " ")).forEach(function (word) {
      var term = search.stem(word);
      if (Array.from(word).length < 2 || NOISE.has(word) || seen.has(term)) { return; }
      seen.add(term);
      units.push({ words: [word], terms: [term], phrase: false, prefix: Array.from(word).length >= 4 });
    });
    if (!units.length) { return; }
    var index = new search.Index(host.dataset.index);
    index.start().then(function () {
      return index.search(units, false);
    }).then(function (found) {
      var best = found.results.sort(function (a, b) {
        return b.matches - a.matches || b.score - a.score || b.id - a.id;
      }).slice(0, SHOWN);
      return Promise.all(best.map(function (r) { return index.doc(r.id); }));
    }).then(function (docs) {
      if (!docs || !docs.length) { return; }
      var list = document.getElementById("suggestions");
      docs.forEach(function (doc) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = base + doc[0];
        link.textContent = doc[1];
        item.appendChild(link);
        var about = [doc[3], doc[4]].filter(Boolean).join(" · ");
        if (about) { item.appendChild(document.createTextNode(" (" + about + ")")); }
        list.appendChild(item);
      });
      host.hidden = false;
    }).catch(function () { /* the page says what to do without suggestions */ });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
