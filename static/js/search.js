// Search for the search page and the 404 page: reads Broadsheet's index (search/meta.json,
// search/terms/*.json, search/words/*.json, search/lengths/*.json, search/facets/*.json,
// search/docs/*.json; see broadsheet/search/index.py) and shows ranked results, each with
// the passage that matched. Words are made exactly as broadsheet/search/terms.py makes
// them (stemmed by porter2.js, which must load first); every query word or "quoted
// phrase" must match, and the last word also matches as the start of a word while it is
// being typed (never a one-letter word).
(function (global) {
  "use strict";
  var MAX_TERM = 40, K1 = 1.2, B = 0.75, PREFIX_TERMS = 10;
  var LETTER = "\\p{L}\\p{Nl}\\p{No}", WORD = "\\p{L}\\p{N}";
  var ABBREVIATION = new RegExp("(?<![" + WORD + "_.])[" + LETTER + "](?:\\.[" + LETTER + "])+\\.?(?![" + WORD + "_])", "gu");
  var POSSESSIVE = new RegExp("(?<=[" + WORD + "])['’]s(?![" + WORD + "])", "gu");
  var INNER_APOSTROPHE = new RegExp("(?<=[" + WORD + "])['’](?=[" + WORD + "])", "gu");
  var RUN = new RegExp("[" + WORD + "]+", "gu");
  // A word as it stands in text, for marking: an abbreviation, or letters with apostrophes.
  var SPAN = new RegExp("[" + LETTER + "](?:\\.[" + LETTER + "])+\\.?(?![" + WORD + "_])|[" + WORD + "]+(?:['’][" + WORD + "]+)*", "gu");

  function fold(text) {
    return text.normalize("NFKD").replace(/\p{Mn}/gu, "").toLowerCase();
  }
  function joined(text) {
    return text.replace(ABBREVIATION, function (m) { return m.replace(/\./g, ""); })
      .replace(POSSESSIVE, "").replace(INNER_APOSTROPHE, "");
  }
  // The words of `text`, folded, before stemming.
  function words(text) {
    return joined(fold(text)).match(RUN) || [];
  }
  // word -> its term, for the words met lately: the passages of ten results stem each
  // word of their text, and the same few thousand words come back (a tenth of the time).
  var STEMS = new Map(), STEMS_KEPT = 1 << 16;
  function stem(word) {
    var found = STEMS.get(word);
    if (found === undefined) {
      var cut = Array.from(word).slice(0, MAX_TERM).join("");
      found = /^[a-z0-9]+$/.test(cut) ? global.Porter2.stem(cut) : cut;
      if (STEMS.size >= STEMS_KEPT) { STEMS.clear(); }
      STEMS.set(word, found);
    }
    return found;
  }
  function terms(text) { return words(text).map(stem); }
  // Whether `text` holds the terms of `phrase` one after another, within one of its
  // lines (an article's text has a line for each block: a phrase never crosses from a
  // paragraph into a heading, or from one list item or table cell into the next).
  function holds(text, phrase) {
    var n = phrase.length;
    return text.split("\n").some(function (line) {
      var all = terms(line);
      for (var i = 0; i + n <= all.length; i++) {
        var j = 0;
        while (j < n && all[i + j] === phrase[j]) { j++; }
        if (j === n) { return true; }
      }
      return false;
    });
  }

  var CRC = (function () {
    var table = [];
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) { c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; }
      table.push(c >>> 0);
    }
    return table;
  })();
  function crc32(text) {
    var bytes = new TextEncoder().encode(text), crc = 0xffffffff;
    for (var i = 0; i < bytes.length; i++) { crc = CRC[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8); }
    return (crc ^ 0xffffffff) >>> 0;
  }
  function bucketOf(term) {
    var start = Array.from(term).slice(0, 2).join("");
    if (/^[a-z0-9]{1,2}$/.test(start)) { return start; }
    return "x" + Array.from(new TextEncoder().encode(start), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  // A query: its "phrases" (lists of terms) and loose words; while the query is being
  // typed (`typing`), the last loose word is also a prefix when the query ends in it.
  function parse(query, typing) {
    var units = [], quoted = /"([^"]*)"?/g, at = 0, match, loose = [];
    while ((match = quoted.exec(query)) !== null) {
      loose.push(query.slice(at, match.index));
      var phrase = words(match[1]);
      if (phrase.length) { units.push({ words: phrase, terms: phrase.map(stem), phrase: phrase.length > 1 }); }
      at = quoted.lastIndex;
    }
    var tail = query.slice(at);
    loose.push(tail);
    loose.join(" ").split(/\s+/).forEach(function (chunk) {
      // Words with no space between them (8.4, 1,000, $78.8m, U.S.-led, e-mail) are
      // looked for side by side, as a phrase: the index keeps a number's parts apart.
      var found = words(chunk);
      if (found.length > 1) {
        units.push({ words: found, terms: found.map(stem), phrase: true });
        return;
      }
      found.forEach(function (word) { units.push({ words: [word], terms: [stem(word)], phrase: false }); });
    });
    // The last word is a prefix only when the query ends in it as typed: not in a space,
    // a quote, a possessive ('s) or an abbreviation's dots (U.S.), and not one letter.
    var last = units.length ? units[units.length - 1] : null, spans = tail.match(SPAN) || [];
    var lastSpan = spans.length ? spans[spans.length - 1] : "";
    if (typing && last && !last.phrase && lastSpan && tail.endsWith(lastSpan) && !/['’.]/.test(lastSpan)
        && words(lastSpan).join(" ") === last.words[0] && Array.from(last.words[0]).length >= 2) {
      last.prefix = true;
    }
    // The same unit twice counts once: word order and repeats never change the results.
    var seen = new Set();
    return units.filter(function (unit) {
      var key = (unit.prefix ? "*" : "") + unit.terms.join(" ");
      if (seen.has(key)) { return false; }
      seen.add(key);
      return true;
    });
  }

  // The length a length's code stands for: the index keeps each article's length to
  // within 1/32 (code_length in broadsheet/search/index.py does the same).
  function codeLength(code) {
    if (code < 32) { return code; }
    var shift = (code >> 4) - 1;
    return (code - 16 * shift) * Math.pow(2, shift) + Math.pow(2, shift - 1);
  }

  function Index(root) {
    this.root = root;
    this.files = new Map();
    this.bytes = 0;
  }
  Index.prototype.load = function (path) {
    var files = this.files, self = this;
    if (!files.has(path)) {
      files.set(path, fetch(this.root + path).then(function (r) {
        if (!r.ok) { throw new Error(path + ": " + r.status); }
        return r.json();
      }));
    }
    return files.get(path);
  };
  Index.prototype.start = function () {
    var self = this;
    return this.load("meta.json").then(function (meta) { self.meta = meta; return self; });
  };
  // id -> count, for one term (a stem, or two adjacent stems joined by a space).
  Index.prototype.postings = function (term) {
    var shard = crc32(term) % this.meta.shards;
    return this.load("terms/" + shard + ".json").then(function (table) {
      var found = new Map(), flat = Object.prototype.hasOwnProperty.call(table, term) ? table[term] : [], id = 0;
      for (var i = 0; i < flat.length; i += 2) {
        id = i ? id + flat[i] : flat[0];
        found.set(id, flat[i + 1]);
      }
      return found;
    });
  };
  // The stems a word being typed may become: its own; the longest stem of three letters
  // or more that the word starts with, where the stemmer cut off an ending the reader
  // is typing (negotiati: negoti; happines: happi; runni: run); and those that start
  // with it, most frequent first.
  Index.prototype.expand = function (word) {
    var own = stem(word), bucket = bucketOf(word);
    if (this.meta.words.indexOf(bucket) < 0) { return Promise.resolve([own]); }
    return this.load("words/" + bucket + ".json").then(function (table) {
      var length = Array.from(word).length, cut = null;
      var found = Object.keys(table).filter(function (t) {
        var size = Array.from(t).length;
        if (t !== own && size >= 3 && size < length && word.startsWith(t)
            && (cut === null || size > Array.from(cut).length)) { cut = t; }
        return t !== own && t.startsWith(word);
      }).sort(function (a, b) { return table[b] - table[a] || (a < b ? -1 : 1); });
      return [own].concat(cut === null ? [] : [cut], found).slice(0, PREFIX_TERMS);
    });
  };
  // id -> count for one unit of a query; `terms` gets every term it may mark.
  Index.prototype.unit = function (unit, marked) {
    var self = this;
    if (unit.phrase) {
      // Every word must match; that they stand side by side is checked on the text of
      // each result before it is shown (`holds`, in showMore).
      unit.terms.forEach(function (t) { marked.add(t); });
      return Promise.all(unit.terms.map(function (t) { return self.postings(t); })).then(function (lists) {
        var found = new Map();
        lists[0].forEach(function (count, id) {
          var least = count;
          for (var j = 1; j < lists.length; j++) {
            var other = lists[j].get(id);
            if (other === undefined) { return; }
            least = Math.min(least, other);
          }
          found.set(id, least);
        });
        return found;
      });
    }
    var choices = unit.prefix ? this.expand(unit.words[0]) : Promise.resolve(unit.terms);
    return choices.then(function (list) {
      list.forEach(function (t) { marked.add(t); });
      return Promise.all(list.map(function (t) { return self.postings(t); }));
    }).then(function (lists) {
      var found = new Map();
      lists.forEach(function (l) {
        l.forEach(function (count, id) { found.set(id, Math.max(found.get(id) || 0, count)); });
      });
      return found;
    });
  };
  // What `folder`'s files (`size` ids to a file) say of every id in `ids`: a function
  // of the id, once the files they are in have come.
  Index.prototype.entries = function (folder, size, ids) {
    var self = this, chunks = new Set();
    ids.forEach(function (id) { chunks.add(Math.floor(id / size)); });
    var numbers = Array.from(chunks).sort(function (a, b) { return a - b; });
    return Promise.all(numbers.map(function (n) { return self.load(folder + n + ".json"); }))
      .then(function (files) {
        var by = new Map();
        numbers.forEach(function (n, i) { by.set(n, files[i]); });
        return function (id) { return by.get(Math.floor(id / size))[id % size]; };
      });
  };
  // The length in words of every id in `ids`, for BM25.
  Index.prototype.lengths = function (ids) {
    return this.entries("lengths/", this.meta.lengths_chunk, ids).then(function (codeOf) {
      return function (id) { return codeLength(codeOf(id)); };
    });
  };
  // Each result's facets, [section, author, [topics]], as `facet`: what the filters
  // need, loaded only once they are (the first results are drawn without them).
  Index.prototype.withFacets = function (results) {
    var ids = results.filter(function (r) { return !r.facet; }).map(function (r) { return r.id; });
    return this.entries("facets/", this.meta.chunk, ids).then(function (facetOf) {
      results.forEach(function (r) { r.facet = r.facet || facetOf(r.id); });
      return results;
    });
  };
  Index.prototype.yearOf = function (id) {
    var years = this.meta.years;
    for (var i = 0; i < years.length; i++) {
      if (id >= years[i][1] && id <= years[i][2]) { return years[i][0]; }
    }
    return null;
  };
  // Score each article: the sum over the units of BM25 (idf from how many articles the
  // unit matches, the count against the article's length). `every`: all units must match.
  Index.prototype.search = function (units, every) {
    var self = this, marked = new Set();
    return Promise.all(units.map(function (u) { return self.unit(u, marked); })).then(function (lists) {
      var ids = new Map();
      lists.forEach(function (list, i) {
        list.forEach(function (count, id) {
          var seen = ids.get(id) || 0;
          ids.set(id, seen + 1);
        });
      });
      var matching = [];
      ids.forEach(function (n, id) { if (!every || n === lists.length) { matching.push(id); } });
      return self.lengths(matching).then(function (lengthOf) {
        var n = self.meta.docs, average = self.meta.length / Math.max(n, 1) || 1;
        var scored = matching.map(function (id) {
          var norm = K1 * (1 - B + B * Math.max(lengthOf(id), 1) / average), score = 0, matches = 0;
          lists.forEach(function (list) {
            var count = list.get(id);
            if (count === undefined) { return; }
            matches += 1;
            var idf = Math.log(1 + (n - list.size + 0.5) / (list.size + 0.5));
            score += idf * count * (K1 + 1) / (count + norm);
          });
          return { id: id, score: score, matches: matches, facet: null, year: self.yearOf(id) };
        });
        return { results: scored, marked: marked };
      });
    });
  };
  Index.prototype.doc = function (id) { return this.load("docs/" + id + ".json"); };

  // A full stop after these ends no sentence: an initial or a dotted abbreviation (U.S.,
  // J.), or a title or short form written before a name or a number.
  var SHORT = /(?:^|[\s(“"‘'])(?:[A-Za-z]|(?:[A-Za-z]\.)+[A-Za-z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Capt|Prof|Rev|Inc|Corp|Co|Ltd|No|vs|etc|Jan|Feb|Mar|Apr|Aug|Sept|Oct|Nov|Dec)$/;
  // `text` cut into its sentences (each with the space after it): at the end of each of
  // its lines (an article's blocks), and at a full stop, question or exclamation mark
  // followed by space, but not after an abbreviation or before a word in lower case.
  function sentences(text) {
    var out = [];
    text.split("\n").forEach(function (line) { out.push.apply(out, lineSentences(line)); });
    return out.length ? out : [text];
  }
  // One line's sentences (see `sentences`): a block's end ends a sentence too.
  function lineSentences(text) {
    var out = [], start = 0, end = /[.!?]+["”’)]*(\s+|$)/g, match;
    while ((match = end.exec(text)) !== null) {
      var stop = match.index + match[0].length;
      if (match[0].charAt(0) === "." && match[1] !== "") {
        var next = text.charAt(stop);
        var lower = next.toLowerCase() === next && next.toUpperCase() !== next;
        if (lower || SHORT.test(text.slice(start, match.index))) { continue; }
      }
      out.push(text.slice(start, stop));
      start = stop;
    }
    if (start < text.length) { out.push(text.slice(start)); }
    return out.length ? out : [text];
  }

  // The passage of `text` where the most of the `marked` terms occur (a sentence, cut
  // to about `size` characters around its first mark), as [[text, marked?], ...].
  function passage(text, marked, size) {
    var best = null, bestScore = -1, offset = 0;
    sentences(text).forEach(function (sentence) {
      var found = new Set(), first = -1, match;
      SPAN.lastIndex = 0;
      while ((match = SPAN.exec(sentence)) !== null) {
        var hit = terms(match[0]).some(function (t) { return marked.has(t); });
        if (hit) { found.add(terms(match[0]).join(" ")); if (first < 0) { first = match.index; } }
      }
      if (found.size > bestScore) { best = { at: offset, text: sentence, first: first }; bestScore = found.size; }
      offset += sentence.length;
    });
    var piece = best.text.trim(), start = 0;
    if (piece.length > size && best.first > size / 3) {
      start = piece.lastIndexOf(" ", best.first - Math.floor(size / 3)) + 1;
    }
    var end = piece.length > start + size ? piece.lastIndexOf(" ", start + size) : piece.length;
    if (end <= start) { end = Math.min(piece.length, start + size); }
    var shown = (start > 0 ? "… " : "") + piece.slice(start, end) + (end < piece.length ? " …" : "");
    return marks(shown, marked);
  }
  // `text` split into [[piece, marked?], ...]: the words whose terms are `marked`.
  function marks(text, marked) {
    var out = [], at = 0, match;
    SPAN.lastIndex = 0;
    while ((match = SPAN.exec(text)) !== null) {
      if (!terms(match[0]).some(function (t) { return marked.has(t); })) { continue; }
      if (match.index > at) { out.push([text.slice(at, match.index), false]); }
      out.push([match[0], true]);
      at = match.index + match[0].length;
    }
    if (at < text.length) { out.push([text.slice(at), false]); }
    return out;
  }
  function fill(element, pieces) {
    pieces.forEach(function (piece) {
      if (piece[1]) {
        var mark = document.createElement("mark");
        mark.textContent = piece[0];
        element.appendChild(mark);
      } else {
        element.appendChild(document.createTextNode(piece[0]));
      }
    });
  }

  global.BroadsheetSearch = {
    words: words, stem: stem, terms: terms, crc32: crc32, bucketOf: bucketOf,
    holds: holds, codeLength: codeLength,
    parse: parse, Index: Index, passage: passage, marks: marks, fill: fill,
    sentences: sentences
  };
  if (typeof document === "undefined") { return; }

  // The search page.
  // SHOWN_MOST: the most results an address may ask to show at once (`shown`, see run).
  var PAGE = 10, SHOWN_MOST = 200, FILTERS = ["section", "author", "topic", "year"];
  var host, base, index, form, input, sortSelect, statusLine, list, more, selects = {};
  var shown = 0, ranked = [], current = 0, marked = new Set(), phrases = [], typing = false;
  var told = null, loadingMore = false;  // what the status line counts; a More under way
  var wantedShown = 0;  // how many results the address asks for (More pressed before)

  function names(filter) {
    var meta = index.meta;
    if (filter === "section") { return meta.sections.map(function (s) { return [s[0], s[1]]; }); }
    if (filter === "author") { return meta.authors.map(function (a) { return [a, a]; }); }
    if (filter === "topic") { return meta.topics.map(function (t) { return [t, t]; }); }
    return meta.years.slice().reverse().map(function (y) { return [String(y[0]), String(y[0])]; });
  }
  // The value (as in the URL) of filter `filter` for a result.
  function valueOf(filter, result) {
    var meta = index.meta, f = result.facet;
    if (filter === "section") { return f[0] >= 0 ? [meta.sections[f[0]][0]] : []; }
    if (filter === "author") { return f[1] >= 0 ? [meta.authors[f[1]]] : []; }
    if (filter === "topic") { return f[2].map(function (t) { return meta.topics[t]; }); }
    return result.year === null ? [] : [String(result.year)];
  }
  function chosen() {
    var picks = {};
    FILTERS.forEach(function (f) { if (selects[f].value) { picks[f] = selects[f].value; } });
    return picks;
  }
  function passes(result, picks, except) {
    return FILTERS.every(function (f) {
      return f === except || !picks[f] || valueOf(f, result).indexOf(picks[f]) >= 0;
    });
  }
  function fillOptions() {
    FILTERS.forEach(function (filter) {
      var select = selects[filter], wanted = select.dataset.wanted || select.value;
      if (filter !== "section") {
        names(filter).forEach(function (pair) {
          var option = document.createElement("option");
          option.value = pair[0];
          option.textContent = pair[1];
          select.appendChild(option);
        });
      }
      select.value = wanted;
      if (select.value !== wanted) { select.value = ""; }
    });
  }
  // Each filter's choices show how many results they would give, with the other filters.
  function count(results, picks) {
    FILTERS.forEach(function (filter) {
      var counts = new Map();
      if (results) {
        results.forEach(function (r) {
          if (!passes(r, picks, filter)) { return; }
          valueOf(filter, r).forEach(function (v) { counts.set(v, (counts.get(v) || 0) + 1); });
        });
      }
      // With a phrase, the results have its words, side by side or not (see Index.unit):
      // the counts are at most so many, and say so, as the status line does.
      var labels = new Map(names(filter)), bound = results && phrases.length ? "up to " : "";
      Array.prototype.forEach.call(selects[filter].options, function (option) {
        if (!option.value || !labels.has(option.value)) { return; }
        var n = counts.get(option.value) || 0;
        option.textContent = labels.get(option.value) + (results ? " (" + (n ? bound + n : 0) + ")" : "");
      });
    });
  }
  // The address of the search on screen: the query, the filters, the order,
  // whether its last word was being typed (then a prefix: see parse), and how many
  // results More has shown, so that the address, reopened, shared or gone back to,
  // shows what was on screen.
  function address(query, picks, order, units, count) {
    var params = new URLSearchParams();
    if (query) { params.set("q", query); }
    FILTERS.forEach(function (f) { if (picks[f]) { params.set(f, picks[f]); } });
    if (order === "date") { params.set("sort", "date"); }
    if (units.some(function (u) { return u.prefix; })) { params.set("typed", "1"); }
    if (count > PAGE) { params.set("shown", String(count)); }
    var search = params.toString();
    return window.location.pathname + (search ? "?" + search : "");
  }
  // The search an address holds, as the form and `typing` (when the page opens, and when
  // the reader goes back or forward to it).
  function restore() {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    typing = params.get("typed") === "1";
    FILTERS.forEach(function (f) {
      var wanted = params.get(f) || "";
      selects[f].dataset.wanted = wanted;
      selects[f].value = wanted;
      if (selects[f].value !== wanted) { selects[f].value = ""; }
    });
    sortSelect.value = params.get("sort") === "date" ? "date" : "";
    var asked = parseInt(params.get("shown") || "", 10);
    wantedShown = asked > PAGE ? Math.min(asked, SHOWN_MOST) : 0;
  }
  // `how`: "push" a new entry in the browser's history (a search submitted, a filter or
  // the order chosen), or "replace" the one on screen (while typing; and when the page
  // opens or is gone back to, tidying the address of what it does not use). Only a
  // search the address gave (`restored`) shows as many results as it asks for.
  function run(how, restored) {
    var query = input.value, picks = chosen(), order = sortSelect.value, units = parse(query, typing);
    var mine = ++current, goal = restored ? wantedShown : 0;
    wantedShown = 0;
    var url = address(query, picks, order, units, goal);
    var here = window.location.pathname + window.location.search;
    if (how === "push" && url !== here && url.replace(/[?&]typed=1$/, "") !== here.replace(/[?&]typed=1$/, "")) {
      history.pushState(null, "", url);
    } else if (url !== here) {
      history.replaceState(null, "", url);
    }
    if (!units.length) {
      list.textContent = "";
      more.hidden = true;
      ranked = [];
      told = null;
      statusLine.textContent = query.trim()
        ? "Nothing to search for in “" + query.trim() + "”: search for words or numbers." : "";
      count(null, picks);
      return;
    }
    statusLine.textContent = "Searching…";
    // The last search's results stay on screen until these come, but no more of them
    // can be loaded into the list meanwhile.
    ranked = [];
    more.hidden = true;
    // A filter other than the year (a range of ids) needs the results' facets first.
    var faceted = FILTERS.some(function (f) { return f !== "year" && picks[f]; });
    index.search(units, true).then(function (found) {
      return faceted ? index.withFacets(found.results).then(function () { return found; }) : found;
    }).then(function (found) {
      if (mine !== current) { return; }
      marked = found.marked;
      phrases = units.filter(function (u) { return u.phrase; }).map(function (u) { return u.terms; });
      ranked = found.results.filter(function (r) { return passes(r, picks, null); });
      ranked.sort(order === "date" ? function (a, b) { return b.id - a.id; }
        : function (a, b) { return b.score - a.score || b.id - a.id; });
      shown = 0;
      told = { label: "“" + query.trim() + "”", order: order, filters: FILTERS.filter(function (f) {
        return picks[f];
      }).map(function (f) {
        var name = names(f).filter(function (pair) { return pair[0] === picks[f]; })[0];
        return name ? name[1] : picks[f];
      }) };
      list.textContent = "";
      // The status is announced once the results it counts are on the page (as many as
      // the address asks for); the filters' counts (a pass over every result, with their
      // facets) follow it.
      function upTo() {
        return showMore(mine).then(function () {
          if (mine === current && shown < goal && shown < ranked.length) { return upTo(); }
        });
      }
      return upTo().then(function () {
        if (mine !== current) { return; }
        if (goal) { noteShown(); }  // (what the address asked for, as it came out)
        tell();
        // Then the filters' counts, once the results' facets have come.
        return index.withFacets(found.results).then(function () {
          if (mine === current) { count(found.results, picks); }
        });
      });
    }).catch(function (error) {
      if (mine === current) { statusLine.textContent = "Search failed: " + error.message; }
    });
  }
  // The status line: how many results the search on screen has (with a phrase, until
  // every result is shown and checked, at most how many), its query and its filters.
  function tell() {
    if (told === null) { return; }
    var total = ranked.length, unsure = phrases.length && shown < total;
    var line = total === 0 ? "No articles match " + told.label
      : (unsure ? "Up to " + total + " articles match "
        : (total === 1 ? "1 article matches " : total + " articles match ")) + told.label;
    statusLine.textContent = line + (told.filters.length ? " (" + told.filters.join(", ") + ")" : "")
      + "." + (total > 1 && told.order === "date" ? " Newest first." : "");
  }
  // Say in the address (of the search on screen) how many results are shown.
  function noteShown() {
    var params = new URLSearchParams(window.location.search);
    if (shown > PAGE) { params.set("shown", String(shown)); } else { params.delete("shown"); }
    history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }
  // Show the next PAGE results (loading only their docs files, all at once), each drawn
  // as soon as its docs file and those of the results above it are in. A result whose
  // text does not hold a quoted phrase (see Index.unit) is dropped, and the next one
  // loaded in its place.
  function showMore(mine) {
    var goal = shown + PAGE;
    function step() {
      var batch = ranked.slice(shown, goal), dropped = new Set(), drawn = Promise.resolve();
      if (!batch.length) { return drawn; }
      batch.map(function (r) { return index.doc(r.id); }).forEach(function (loading, i) {
        drawn = drawn.then(function () { return loading; }).then(function (doc) {
          if (mine !== current) { return; }
          var whole = phrases.every(function (p) { return holds(doc[1], p) || holds(doc[5], p); });
          if (whole) { list.appendChild(result(doc)); } else { dropped.add(batch[i]); }
        });
      });
      return drawn.then(function () {
        if (mine !== current) { return; }
        shown += batch.length - dropped.size;
        if (!dropped.size) { return; }
        ranked = ranked.filter(function (r) { return !dropped.has(r); });
        return step();
      });
    }
    return step().then(function () {
      if (mine === current) { more.hidden = shown >= ranked.length; }
    });
  }
  function result(doc) {
    var item = document.createElement("li");
    item.className = "search-result";
    var heading = document.createElement("h2");
    var link = document.createElement("a");
    link.href = base + doc[0];
    link.className = "search-result-link";
    fill(link, marks(doc[1], marked));
    heading.appendChild(link);
    item.appendChild(heading);
    var about = document.createElement("p");
    about.className = "search-result-meta";
    var section = index.meta.sections.filter(function (s) { return s[0] === doc[2]; })[0];
    about.textContent = [section ? section[1] : "", doc[3], doc[4]].filter(Boolean).join(" · ");
    item.appendChild(about);
    var excerpt = document.createElement("p");
    excerpt.className = "search-result-excerpt";
    fill(excerpt, passage(doc[5], marked, 240));
    item.appendChild(excerpt);
    return item;
  }
  function start() {
    host = document.getElementById("search");
    if (!host) { return; }
    base = host.dataset.baseUrl;
    index = new Index(host.dataset.index);
    form = host.querySelector("form");
    input = document.getElementById("search-terms");
    sortSelect = document.getElementById("search-sort");
    statusLine = document.getElementById("search-status");
    list = document.getElementById("search-results");
    more = document.getElementById("search-more");
    FILTERS.forEach(function (f) { selects[f] = document.getElementById("search-" + f); });
    restore();
    // The form is the page's own from the start: a search submitted before the index has
    // come waits for it, rather than loading the page again.
    var timer = null, ready = false, submitted = false;
    form.addEventListener("submit", function (event) {  // (complete: its last word is whole)
      event.preventDefault();
      window.clearTimeout(timer);
      typing = false;
      if (ready) { run("push"); } else { submitted = true; }
    });
    // Typing is heard from the start: what is typed before the index has come is
    // searched once it has, its last word still being typed (a prefix, as it would be).
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      typing = true;
      submitted = false;
      if (ready) { timer = window.setTimeout(function () { run("replace"); }, 150); }
    });
    index.start().then(function () {
      fillOptions();
      ready = true;
      function chosenNow() { window.clearTimeout(timer); run("push"); }
      FILTERS.forEach(function (f) { selects[f].addEventListener("change", chosenNow); });
      sortSelect.addEventListener("change", chosenNow);
      // Back and Forward go from one search to another.
      window.addEventListener("popstate", function () {
        window.clearTimeout(timer);
        restore();
        run("replace", true);
      });
      // One More at a time: a second press while the first loads would show its results
      // twice and skip as many.
      more.addEventListener("click", function () {
        if (loadingMore) { return; }
        loadingMore = true;
        var before = shown, mine = current;
        showMore(mine).then(function () {
          if (mine !== current) { return; }
          tell();  // (with a phrase, the count is surer now)
          noteShown();
          var next = list.children[before];
          if (next) { next.querySelector("a").focus(); }
        }).finally(function () { loadingMore = false; });
      });
      if (submitted) { run("push"); } else if (input.value) { run("replace", true); } else { count(null, chosen()); }
    }).catch(function (error) {
      statusLine.textContent = "The search index could not be loaded: " + error.message;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(globalThis);
