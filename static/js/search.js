// The search page: reads Broadsheet's index (search/meta.json, search/terms/*.json,
// search/docs/*.json) and shows ranked results. Terms are made exactly as
// broadsheet/search/terms.py makes them; every query word must match, and the last
// one also matches as the start of a word while it is being typed.
(function () {
  "use strict";
  var PAGE = 10;
  var K_TERM = /[\p{L}\p{N}]+/gu;
  var host, root, base, meta, form, input, select, statusLine, list, more;
  var files = new Map();
  var shown = 0, ranked = [], current = 0;

  function terms(text) {
    var plain = text.normalize("NFKD").replace(/\p{Mn}/gu, "").toLowerCase();
    return (plain.match(K_TERM) || []).map(function (t) { return t.slice(0, 40); });
  }
  function bucketOf(term) {
    var start = Array.from(term).slice(0, 2).join("");
    if (/^[a-z0-9]{1,2}$/.test(start)) { return start; }
    return "x" + Array.from(new TextEncoder().encode(start), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  function load(path) {
    if (!files.has(path)) {
      files.set(path, fetch(root + path).then(function (r) {
        if (!r.ok) { throw new Error(path + ": " + r.status); }
        return r.json();
      }));
    }
    return files.get(path);
  }
  // doc id -> weight, for one query word (and, when `prefix`, the words it starts).
  function postings(term, prefix) {
    var bucket = bucketOf(term);
    if (meta.buckets.indexOf(bucket) < 0) { return Promise.resolve(new Map()); }
    return load("terms/" + bucket + ".json").then(function (table) {
      var found = new Map();
      Object.keys(table).forEach(function (key) {
        if (key !== term && !(prefix && key.startsWith(term))) { return; }
        var flat = table[key];
        for (var i = 0; i < flat.length; i += 2) {
          found.set(flat[i], Math.max(found.get(flat[i]) || 0, flat[i + 1]));
        }
      });
      return found;
    });
  }
  function rank(words, prefix) {
    return Promise.all(words.map(function (w, i) {
      return postings(w, prefix && i === words.length - 1);
    })).then(function (lists) {
      var n = meta.docs, scores = new Map();
      lists.sort(function (a, b) { return a.size - b.size; });
      lists[0].forEach(function (weight, id) { scores.set(id, 0); });
      lists.forEach(function (list) {
        var idf = Math.log(1 + (n - list.size + 0.5) / (list.size + 0.5));
        scores.forEach(function (score, id) {
          var w = list.get(id);
          if (w === undefined) { scores.delete(id); } else { scores.set(id, score + idf * w / 100); }
        });
      });
      return Array.from(scores.entries());
    });
  }
  function run() {
    var query = input.value, section = select.value, words = terms(query);
    var mine = ++current;
    var params = new URLSearchParams();
    if (query) { params.set("q", query); }
    if (section) { params.set("section", section); }
    var search = params.toString();
    history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
    list.textContent = "";
    more.hidden = true;
    if (!words.length) { statusLine.textContent = ""; countSections(null); return; }
    statusLine.textContent = "Searching…";
    var prefix = !/\s$/.test(query);
    rank(words, prefix).then(function (found) {
      if (mine !== current) { return; }
      countSections(found);
      var wanted = meta.sections.map(function (s) { return s[0]; }).indexOf(section);
      ranked = found.filter(function (pair) {
        return !section || meta.section_of[pair[0]] === wanted;
      }).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      shown = 0;
      var count = ranked.length, label = "“" + query.trim() + "”";
      statusLine.textContent = count === 0 ? "No articles match " + label + "."
        : (count === 1 ? "1 article matches " : count + " articles match ") + label + ".";
      return showMore(words, prefix);
    }).catch(function (error) {
      if (mine === current) { statusLine.textContent = "Search failed: " + error.message; }
    });
  }
  function countSections(found) {
    var counts = meta.sections.map(function () { return 0; });
    if (found) { found.forEach(function (pair) { counts[meta.section_of[pair[0]]] += 1; }); }
    Array.prototype.forEach.call(select.options, function (option) {
      var at = meta.sections.map(function (s) { return s[0]; }).indexOf(option.value);
      if (at < 0) { return; }
      option.textContent = meta.sections[at][1] + (found ? " (" + counts[at] + ")" : "");
    });
  }
  function showMore(words, prefix) {
    var batch = ranked.slice(shown, shown + PAGE), mine = current;
    shown += batch.length;
    return Promise.all(batch.map(function (pair) {
      return load("docs/" + Math.floor(pair[0] / meta.per_file) + ".json").then(function (docs) {
        return docs[pair[0] % meta.per_file];
      });
    })).then(function (docs) {
      if (mine !== current) { return; }
      docs.forEach(function (doc) { list.appendChild(result(doc, words, prefix)); });
      more.hidden = shown >= ranked.length;
    });
  }
  function result(doc, words, prefix) {
    var item = document.createElement("li");
    item.className = "search-result";
    var heading = document.createElement("h2");
    var link = document.createElement("a");
    link.href = base + doc[0];
    link.className = "search-result-link";
    mark(link, doc[1], words, prefix);
    heading.appendChild(link);
    item.appendChild(heading);
    var about = document.createElement("p");
    about.className = "search-result-meta";
    about.textContent = [doc[2] >= 0 ? meta.sections[doc[2]][1] : "", doc[3]].filter(Boolean).join(" · ");
    item.appendChild(about);
    var excerpt = document.createElement("p");
    excerpt.className = "search-result-excerpt";
    mark(excerpt, doc[4], words, prefix);
    item.appendChild(excerpt);
    return item;
  }
  // Put `text` into `element`, with the query's words in <mark>.
  function mark(element, text, words, prefix) {
    var last = words[words.length - 1], at = 0, match;
    var pattern = new RegExp(K_TERM.source, "gu");
    while ((match = pattern.exec(text)) !== null) {
      var term = terms(match[0])[0] || "";
      var hit = words.indexOf(term) >= 0 || (prefix && term.startsWith(last));
      if (!hit) { continue; }
      element.appendChild(document.createTextNode(text.slice(at, match.index)));
      var strong = document.createElement("mark");
      strong.textContent = match[0];
      element.appendChild(strong);
      at = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(at)));
  }
  function start() {
    host = document.getElementById("search");
    if (!host) { return; }
    root = host.dataset.index;
    base = host.dataset.baseUrl;
    form = host.querySelector("form");
    input = document.getElementById("search-terms");
    select = document.getElementById("search-section");
    statusLine = document.getElementById("search-status");
    list = document.getElementById("search-results");
    more = document.getElementById("search-more");
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    select.value = params.get("section") || "";
    load("meta.json").then(function (data) {
      meta = data;
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(run, 150);
      });
      select.addEventListener("change", run);
      form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
      more.addEventListener("click", function () {
        var words = terms(input.value);
        showMore(words, !/\s$/.test(input.value)).then(function () {
          var next = list.children[shown - PAGE] || list.lastElementChild;
          if (next) { next.querySelector("a").focus(); }
        });
      });
      if (input.value) { run(); }
    }).catch(function (error) {
      statusLine.textContent = "The search index could not be loaded: " + error.message;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
