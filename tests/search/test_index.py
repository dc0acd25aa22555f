"""The index is a pure function of the articles, whether written whole or updated, and an
edit rewrites only the files it must."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import broadsheet.search.index as index_module
from broadsheet.publish.render import entry_order
from broadsheet.publish.stage import Stage
from broadsheet.sealed import seal
from broadsheet.search.index import (
    DamagedTerms,
    Doc,
    LazyDocs,
    TermStore,
    code_length,
    id_order,
    length_code,
    shard_count,
    shard_of,
    write_index,
)
from broadsheet.search.store import Stored
from broadsheet.search.terms import bucket_of, count
from tests.conftest import REPO, run
from tests.search.js import in_node

SECTIONS = [("asia", "Asia"), ("america", "America")]


def doc(
    url: str,
    date: str = "",
    author: str = "",
    topics: tuple[str, ...] = (),
    title: str | None = None,
) -> Doc:
    year = int(date[:4]) if date else None
    moment = entry_order(datetime.fromisoformat(date).replace(tzinfo=UTC) if date else None)
    title = url.title() if title is None else title
    return Doc(url, title, url.split("/")[0], date, year, author, topics, moment)


def rewrite(store: TermStore, docs: Sequence[Doc], url: str, text: str) -> dict | None:
    """An article rendered again with `text`, handed to the store as the render hands it:
    counted with its title, and what its result shows (its Doc's)."""
    found = next(d for d in docs if d.url_path == url)
    return store.replace(url, count(found.title, text), found.shown)


def begin(store: TermStore, out: Path, docs: Sequence[Doc], same_places: bool = False) -> Stage:
    """A build of the index into `out`, begun in `store` as the build begins one: over
    the index already there (an overlay, its files moved in by `commit`), or into a new
    folder, `docs` taking their ids."""
    if (out / "search").is_dir():
        root = out.with_name(f"{out.name}-stage")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        stage = Stage(root, base=out)
    else:
        stage = Stage(out)
    store.begin(stage, [d.url_path for d in id_order(docs)], same_places)
    return stage


def commit(stage: Stage) -> None:
    """An overlay's files moved into the index beneath it, as the build commits them."""
    if stage.base is None:
        return
    for relative in stage.staged():
        target = stage.base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage.root / relative, target)
    for relative in stage.removed:
        (stage.base / relative).unlink(missing_ok=True)
    shutil.rmtree(stage.root)


def index(stage: Stage, store: TermStore, docs: Sequence[Doc], changed: dict | None) -> None:
    write_index(stage, id_order(docs), SECTIONS, store, changed)
    commit(stage)


def stored(
    out: Path, state: Path, docs: Sequence[Doc], texts: dict[str, str]
) -> tuple[TermStore, Stage]:
    """A cold build into `out` begun, each article's text put, by its URL, with its
    title (its Doc's): the counts are worked out again from them (see Stored.counts)."""
    store = TermStore(state)
    stage = begin(store, out, docs)
    for found in docs:
        store.put(found.url_path, count(found.title, texts[found.url_path]), found.shown)
    return store, stage


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def lookup(out: Path, term: str) -> dict[str, int]:
    """url -> count of `term`, read back as the browser reads it."""
    meta = json.loads((out / "search/meta.json").read_text())
    shard = shard_of(term) % meta["shards"]
    table = json.loads((out / f"search/terms/{shard}.json").read_text())
    gaps, found, at = table.get(term, []), {}, 0
    for n in range(0, len(gaps), 2):
        at = at + gaps[n] if n else gaps[0]
        url = json.loads((out / f"search/docs/{at}.json").read_text())[0]
        found[url] = gaps[n + 1]
    return found


def test_an_update_after_edits_equals_a_cold_index(tmp_path: Path) -> None:
    texts = {
        "asia/a/": "<p>tariffs on solar panels</p>",
        "asia/b/": "<p>solar farms in the desert</p>",
        "america/c/": "<p>panels and tariffs, again tariffs</p>",
    }
    docs = [doc(url) for url in texts]
    store = TermStore(tmp_path / "state")
    stage = begin(store, tmp_path / "inc", docs)
    for url, text in texts.items():
        rewrite(store, docs, url, text)  # (the title counted is the one shown)
    index(stage, store, docs, None)
    assert lookup(tmp_path / "inc", "tariff") == {"asia/a/": 1, "america/c/": 2}

    texts["asia/a/"] = "<p>wind turbines replace solar</p>"
    stage = begin(store, tmp_path / "inc", docs)
    changed = {"asia/a/": rewrite(store, docs, "asia/a/", texts["asia/a/"])}
    assert "tariff" in changed["asia/a/"] and "wind" in changed["asia/a/"]
    assert "desert" not in changed["asia/a/"]
    index(stage, store, docs, changed)
    assert set(lookup(tmp_path / "inc", "tariff")) == {"america/c/"}
    assert set(lookup(tmp_path / "inc", "wind")) == {"asia/a/"}

    cold_store = TermStore(tmp_path / "cold-state")
    stage = begin(cold_store, tmp_path / "cold", docs)
    for url, text in texts.items():
        rewrite(cold_store, docs, url, text)
    index(stage, cold_store, docs, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")


VOCABULARY = "tariff solar panel wind election elections china china's u.s. the of a trade".split()


def test_random_edits_keep_the_index_equal_to_a_cold_one(tmp_path: Path) -> None:
    rng = random.Random(18)
    urls = [f"asia/p{n}/" for n in range(12)]
    texts = {u: " ".join(rng.choices(VOCABULARY, k=rng.randint(1, 30))) for u in urls}
    docs = [doc(u, f"20{10 + n % 5}-01-0{1 + n % 9}") for n, u in enumerate(urls)]
    store, stage = stored(tmp_path / "inc", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    for step in range(12):
        edited = rng.sample(urls, rng.randint(1, 3))
        changed = {}
        stage = begin(store, tmp_path / "inc", docs)
        for url in edited:
            texts[url] = " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 30)))
            changed[url] = rewrite(store, docs, url, texts[url])
        index(stage, store, docs, changed)
        cold, stage = stored(tmp_path / f"cold-{step}", tmp_path / f"cs-{step}", docs, texts)
        index(stage, cold, docs, None)
        assert tree(tmp_path / "inc") == tree(tmp_path / f"cold-{step}"), step


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["edit", "retitle", "newest", "oldest"]), st.integers(0, 2**32)),
        min_size=1,
        max_size=6,
    )
)
def test_edits_and_new_articles_keep_the_index_equal_to_a_cold_one(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    # An article newer than all the others is added to the index in place; one older
    # than some, or one that makes the term files twice as many (past 64 articles, one
    # a file here), has the index written whole, each article counted again from its
    # stored title and text. Either way: what a cold build writes.
    tmp = tmp_path_factory.mktemp("index")
    texts = {
        f"asia/p{n:02}/": " ".join(random.Random(n).choices(VOCABULARY, k=9)) for n in range(60)
    }
    titles = {url: VOCABULARY[n % len(VOCABULARY)] for n, url in enumerate(texts) if n % 3}
    dates = {url: f"2015-01-{10 + n % 20}" for n, url in enumerate(texts)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_module, "ARTICLES_PER_SHARD", 1)
        docs = [doc(u, dates[u], title=titles.get(u, "")) for u in texts]
        store, stage = stored(tmp / "inc", tmp / "state", docs, texts)
        index(stage, store, docs, None)
        for step, (kind, seed) in enumerate(steps):
            rng = random.Random(seed)
            text = " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 12)))
            title = " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 3)))
            url = rng.choice(sorted(texts)) if kind in ("edit", "retitle") else f"asia/n{step}/"
            if kind == "retitle":  # (the same text: only its title's terms change)
                titles[url] = title
            else:
                texts[url] = text
            if kind not in ("edit", "retitle"):
                dates[url] = f"2030-01-{10 + step}" if kind == "newest" else "2000-01-01"
            docs = [doc(u, dates[u], title=titles.get(u, "")) for u in texts]
            stage = begin(store, tmp / "inc", docs)
            found = rewrite(store, docs, url, texts[url])
            changed = {url: found} if found is not None else {}  # (as the render reports)
            index(stage, store, docs, changed)
            cold, stage = stored(tmp / f"cold-{step}", tmp / f"cs-{step}", docs, texts)
            index(stage, cold, docs, None)
            assert tree(tmp / "inc") == tree(tmp / f"cold-{step}"), (step, kind)


def test_a_new_article_after_all_the_others_is_added_without_merging_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = {f"asia/p{n}/": f"<p>tariff {n} solar</p>" for n in range(30)}
    dates = {url: f"2015-01-{10 + n % 20}" for n, url in enumerate(texts)}
    store, stage = stored(
        tmp_path / "site", tmp_path / "state", [doc(u, dates[u], title="") for u in texts], texts
    )
    index(stage, store, [doc(u, dates[u], title="") for u in texts], None)
    before = tree(tmp_path / "site")

    def merged(*args: object) -> None:
        raise AssertionError("the whole index was merged again")

    monkeypatch.setattr(index_module, "_merge_all", merged)
    texts["asia/new/"], dates["asia/new/"] = "<p>zebra tariff</p>", "2016-01-01"
    docs = [doc(u, dates[u], title="") for u in texts]
    stage = begin(store, tmp_path / "site", docs)
    changed = {"asia/new/": rewrite(store, docs, "asia/new/", texts["asia/new/"])}
    index(stage, store, docs, changed)
    assert lookup(tmp_path / "site", "zebra") == {"asia/new/": 1}
    assert lookup(tmp_path / "site", "tariff")["asia/new/"] == 1
    after = tree(tmp_path / "site")
    rewritten = {name for name in after if before.get(name) != after[name]}
    total = shard_count(len(texts))
    shards = {f"search/terms/{shard_of(t) % total}.json" for t in ("zebra", "tariff")}
    assert rewritten <= shards | {
        "search/meta.json",
        "search/lengths/0.json",
        "search/facets/0.json",
        "search/docs/30.json",
        f"search/words/{bucket_of('zebra')}.json",
        f"search/words/{bucket_of('tariff')}.json",
    }


def test_re_indexing_every_article_holds_one_at_a_time(tmp_path: Path) -> None:
    # After a template edit every article renders again, and each is re-indexed with
    # no term changed: their counts were all read at once (570 MB at 10,000 articles).
    rng = random.Random(3)
    vocabulary = [f"word{n}" for n in range(5000)]
    texts = {f"asia/p{n:03}/": " ".join(rng.choices(vocabulary, k=600)) for n in range(200)}
    docs = [doc(u) for u in texts]
    store, stage = stored(tmp_path / "site", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    docs = [doc(u, author="Ann Lee") for u in texts]  # (shown on every result: no term)
    stage = begin(store, tmp_path / "site", docs)
    changed = {url: rewrite(store, docs, url, text) for url, text in texts.items()}
    assert all(terms == {} for terms in changed.values())  # (each re-indexed: no term)
    held = sum(sys.getsizeof(store.read(url).counts) for url in texts)
    tracemalloc.start()
    try:
        index(stage, store, docs, changed)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < held / 4, (peak, held)
    cold, stage = stored(tmp_path / "cold", tmp_path / "cold-state", docs, texts)
    index(stage, cold, docs, None)
    assert tree(tmp_path / "site") == tree(tmp_path / "cold")


def test_an_edit_rewrites_only_the_files_of_the_words_it_changed(tmp_path: Path) -> None:
    rng = random.Random(5)
    vocabulary = [f"word{n}" for n in range(3000)]
    urls = [f"asia/p{n:03}/" for n in range(300)]
    texts = {u: " ".join(rng.choices(vocabulary, k=400)) for u in urls}
    docs = [doc(u) for u in urls]
    out = tmp_path / "site"
    store, stage = stored(out, tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    before = tree(out)
    # One more word in the body: the article is longer, its counts of other words are not.
    url = urls[150]
    known = texts[url].split()[0]  # a word it has already: its count changes, not its df
    texts[url] += f" {known} zebra"
    stage = begin(store, out, docs)
    changed = {url: rewrite(store, docs, url, texts[url])}
    assert set(changed[url]) == {known, "zebra"}
    index(stage, store, docs, changed)
    after = tree(out)
    rewritten = {name for name in after if before.get(name) != after[name]}
    total = shard_count(len(urls))
    shards = {f"search/terms/{shard_of(t) % total}.json" for t in changed[url]}
    # Its facets did not change: their file stays as it was (its length's code may not).
    assert rewritten - {"search/meta.json", "search/lengths/0.json", "search/docs/150.json"} <= (
        shards | {f"search/words/{bucket_of('zebra')}.json"}
    )
    assert len([n for n in rewritten if n.startswith("search/terms/")]) <= 4
    assert total >= 64


def test_articles_are_numbered_oldest_first_and_years_are_ranges(tmp_path: Path) -> None:
    docs = [
        doc("asia/new/", "2024-05-01", "Jane Roe", ("trade",)),
        doc("asia/old/", "2019-03-02", "Ann Lee", ("trade", "energy")),
        doc("america/undated/"),
        doc("america/mid/", "2024-01-01", "Jane Roe"),
    ]
    store = TermStore(tmp_path / "state")
    stage = begin(store, tmp_path / "out", docs)
    for d in docs:
        store.put(d.url_path, count(d.title, "<p>rice</p>"), d.shown)
    index(stage, store, docs, None)
    search = tmp_path / "out/search"
    urls = [json.loads((search / f"docs/{n}.json").read_text())[0] for n in range(4)]
    assert urls == ["america/undated/", "asia/old/", "america/mid/", "asia/new/"]
    meta = json.loads((search / "meta.json").read_text())
    assert meta["years"] == [[2019, 1, 1], [2024, 2, 3]]
    assert meta["authors"] == ["Ann Lee", "Jane Roe"]
    assert meta["topics"] == ["energy", "trade"]
    facets = json.loads((search / "facets/0.json").read_text())
    assert facets[1] == [0, 0, [0, 1]]  # asia, Ann Lee, energy and trade
    assert facets[0] == [1, -1, []]  # america, no author, no topic
    # Each article's length (1 word of body; the title's words do not count) by id.
    assert json.loads((search / "lengths/0.json").read_text()) == [1, 1, 1, 1]
    assert meta["length"] == 4 and meta["lengths_chunk"] >= meta["chunk"]
    assert json.loads((search / f"words/{bucket_of('rice')}.json").read_text())["rice"] == 4


def test_an_article_the_index_no_longer_holds_is_indexed_afresh(tmp_path: Path) -> None:
    """The last build showed only b (a was hidden, not deleted): when a shows again with
    the text it had, it is no article the index holds, and all its terms are new."""
    texts = {"asia/a/": "tariffs", "asia/b/": "solar"}
    both = [doc("asia/a/", "2015-01-01", title=""), doc("asia/b/", "2016-01-01", title="")]
    store, stage = stored(tmp_path / "out", tmp_path / "state", both, texts)
    index(stage, store, both, None)
    stage = begin(store, tmp_path / "out", both[1:])
    index(stage, store, both[1:], {})  # (a hidden: the index written without it)
    assert not (tmp_path / "out/search/docs/1.json").exists()
    for left in ({"asia/b/"}, None):  # (as the last build said, or as its order says)
        store.expect(left)
        begin(store, tmp_path / "out", both)
        assert rewrite(store, both, "asia/a/", "tariffs") == {"tariff": 1}


def test_an_article_the_last_index_held_and_cannot_be_found_is_damage(tmp_path: Path) -> None:
    """An article the last build indexed, whose docs file is not at its last id, or
    whose last id the order kept (checked against meta.json's) cannot give, raises
    DamagedTerms: the build starts again cold. A new article's is none."""
    texts = {"asia/a/": "x", "asia/b/": "y"}
    docs = [doc("asia/a/", "2015-01-01", title=""), doc("asia/b/", "2016-01-01", title="")]
    store, stage = stored(tmp_path / "out", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    order = tmp_path / "state" / "search-order"
    kept = order.read_bytes()
    moved = [doc("asia/new/", "2014-01-01"), *docs]  # (each of a and b one id on)
    for damage in ("missing", "another order", "a docs file gone"):
        order.write_bytes(kept)
        if damage == "missing":
            order.unlink()
        elif damage == "another order":
            order.write_bytes(seal(orjson.dumps(["asia/b/", "asia/a/"])))
        store.expect({"asia/a/", "asia/b/"})
        stage = begin(store, tmp_path / "out", moved)
        if damage == "a docs file gone":
            (tmp_path / "out/search/docs/0.json").rename(tmp_path / "gone.json")
        assert store.read("asia/new/").counts == {}  # (new: never stored)
        with pytest.raises(DamagedTerms):
            store.read("asia/a/")
        if damage == "a docs file gone":
            (tmp_path / "gone.json").rename(tmp_path / "out/search/docs/0.json")
        if damage == "a docs file gone":  # (b's own is where the order says)
            assert store.read("asia/b/").counts == {"y": 1}
        else:
            with pytest.raises(DamagedTerms):
                store.read("asia/b/")
    # Where the plan says every article kept its place, a docs file not its own is damage.
    order.write_bytes(kept)
    begin(store, tmp_path / "out", docs, same_places=True)
    (tmp_path / "out/search/docs/1.json").write_bytes(b'["asia/a/","x"]')
    with pytest.raises(DamagedTerms):
        store.read("asia/b/")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["edit", "retitle", "blank"]), st.integers(0, 2**32)),
        min_size=1,
        max_size=5,
    )
)
def test_an_update_that_keeps_every_place_keeps_the_facets_and_makes_only_its_docs(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    # Edits that leave every article its URL, date, section, author and topics (a body,
    # a title): the caller says so (same_places), the facets and the meta's lists are
    # kept from the site's meta.json, and no article is made into a Doc. What is written
    # is still a cold index's, to the byte.
    tmp = tmp_path_factory.mktemp("index")
    rng = random.Random(len(steps))
    urls = [f"{rng.choice(['asia', 'america'])}/p{n:02}/" for n in range(30)]
    texts = {url: " ".join(rng.choices(VOCABULARY, k=rng.randint(0, 9))) for url in urls}
    titles = {url: VOCABULARY[n % len(VOCABULARY)] for n, url in enumerate(urls) if n % 3}
    places = [
        (url, f"20{10 + n % 7}-0{1 + n % 9}-1{n % 10}", ["", "Ann", "Bo"][n % 3],
         tuple(rng.sample(["trade", "water", "courts"], n % 3)))
        for n, url in enumerate(urls)
    ]  # fmt: skip

    def docs_now() -> list[Doc]:
        return id_order(doc(*place, title=titles.get(place[0], "")) for place in places)

    docs = docs_now()
    store, stage = stored(tmp / "inc", tmp / "state", docs, texts)
    index(stage, store, docs, None)
    for step, (kind, seed) in enumerate(steps):
        step_rng = random.Random(seed)
        url = step_rng.choice(urls)
        if kind == "retitle":
            titles[url] = " ".join(step_rng.choices(VOCABULARY, k=step_rng.randint(1, 3)))
        else:
            texts[url] = " ".join(step_rng.choices(VOCABULARY, k=step_rng.randint(0, 12)))
            texts[url] *= kind == "edit"
        docs = docs_now()  # (a title is no place: the ids stay)
        stage = begin(store, tmp / "inc", docs, same_places=True)
        found = rewrite(store, docs, url, texts[url])
        lazy, made = counted_docs(docs)
        changed = {url: found} if found is not None else {}
        write_index(stage, lazy, SECTIONS, store, changed, same_places=True)
        commit(stage)
        assert made == []  # (the re-indexed articles' docs files were written as they rendered)
        cold, stage = stored(tmp / f"cold-{step}", tmp / f"cs-{step}", docs, texts)
        index(stage, cold, docs, None)
        assert tree(tmp / "inc") == tree(tmp / f"cold-{step}"), (step, kind)


def counted_docs(docs: list[Doc]) -> tuple[LazyDocs, list[int]]:
    """LazyDocs of `docs`, and the ids of those made, in turn."""
    made: list[int] = []

    def make(number: int) -> Doc:
        made.append(number)
        return docs[number]

    return LazyDocs([d.url_path for d in docs], make), made


def test_kept_facets_are_not_trusted_from_a_meta_of_other_sections(tmp_path: Path) -> None:
    texts = {"asia/a/": "tariffs", "america/b/": "solar"}
    docs = id_order([doc("asia/a/", "2015-01-01"), doc("america/b/", "2016-01-01", "Ann")])
    store, stage = stored(tmp_path / "inc", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    renamed = [("america", "America"), ("asia", "Asia Pacific")]  # (numbered otherwise)
    stage = begin(store, tmp_path / "inc", docs, same_places=True)
    changed = {"asia/a/": rewrite(store, docs, "asia/a/", "wind")}
    texts["asia/a/"] = "wind"
    write_index(stage, docs, renamed, store, changed, same_places=True)
    commit(stage)
    cold, stage = stored(tmp_path / "cold", tmp_path / "c", docs, texts)
    write_index(stage, docs, renamed, cold, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")
    meta = json.loads((tmp_path / "inc/search/meta.json").read_text())
    assert meta["sections"] == [["america", "America"], ["asia", "Asia Pacific"]]


def test_lazy_docs_are_a_sequence_of_the_docs_made_once_each() -> None:
    docs = [doc(f"asia/p{n}/", f"201{n}-01-01") for n in range(5)]
    lazy, made = counted_docs(docs)
    assert len(lazy) == 5 and lazy[1] == docs[1] and lazy[-1] == docs[4] and made == [1, 4]
    assert lazy[1:4] == docs[1:4] and lazy[::-2] == docs[::-2] and list(lazy) == docs
    assert sorted(made) == [0, 1, 2, 3, 4]  # (each once)
    made.clear()
    assert LazyDocs(lazy.urls, docs.__getitem__).every() == docs == lazy.every() and made == []
    with pytest.raises(IndexError):
        lazy[5]
    with pytest.raises(IndexError):
        lazy[-6]


def test_a_cold_build_puts_the_same_docs_file_that_replace_writes(tmp_path: Path) -> None:
    counted = count("Sealion launch", "<p>Sealion sales rise; sales of cars.</p>")
    docs = [doc("asia/a/", title="Sealion launch")]
    put, replaced = TermStore(tmp_path / "new"), TermStore(tmp_path / "old")
    begin(put, tmp_path / "put", docs)
    begin(replaced, tmp_path / "replaced", docs)
    put.put("asia/a/", counted, docs[0].shown)  # (its folder made as needed)
    replaced.replace("asia/a/", counted, docs[0].shown)
    written = (tmp_path / "put/search/docs/0.json").read_bytes()
    assert written == (tmp_path / "replaced/search/docs/0.json").read_bytes()
    assert put.read("asia/a/").counts == counted.counts and put.lengths == {"asia/a/": 6}
    put.put("asia/a/", count("", "other"), ())  # over an old file: nothing of it is left
    assert put.read("asia/a/").counts == {"other": 1}


@given(st.text(), st.lists(st.text(), min_size=4, max_size=4))
def test_the_docs_files_are_the_json_of_their_lists(text: str, shown: list[str]) -> None:
    """A docs file is, to the byte, what orjson makes of its whole list, and is read
    back as it was."""
    from broadsheet.search.store import _entry, write_docs

    with tempfile.TemporaryDirectory() as folder:
        write_docs(Stage(Path(folder)), 7, "asia/a/", shown, text)
        written = (Path(folder) / "search/docs/7.json").read_bytes()
    assert written == orjson.dumps(["asia/a/", *shown, text])
    assert _entry(written, "asia/a/") == Stored(text, tuple(shown))
    assert _entry(written, "asia/b/") is None  # (another article's)


@pytest.mark.parametrize("articles", [0, 1, 512, 513, 10_000, 100_000])
def test_term_files_grow_with_the_archive(articles: int) -> None:
    count_ = shard_count(articles)
    assert count_ % 64 == 0 and count_ * 8 >= articles and (count_ == 64 or count_ * 4 < articles)


@pytest.mark.parametrize(
    "damaged", ["terms/{shard}.json", "facets/0.json", "lengths/0.json", "words/ta.json"]
)
@pytest.mark.parametrize("how", [b"{not json", b"[1, 2]", None])
def test_a_damaged_index_file_in_the_site_is_written_whole_again(
    tmp_path: Path, damaged: str, how: bytes | None
) -> None:
    texts = {"asia/a/": "tariffs on solar panels", "asia/b/": "tariffs and wind"}
    docs = [doc(url) for url in texts]
    store, stage = stored(tmp_path / "inc", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    shard = shard_of("tariff") % shard_count(2)
    target = tmp_path / "inc/search" / damaged.format(shard=shard)
    if how is None:
        target.unlink()
    else:
        target.write_bytes(how)
    texts["asia/a/"] = "tariffs on solar panels, and more tariffs and taxes"  # tax: a new stem
    stage = begin(store, tmp_path / "inc", docs)
    changed = {"asia/a/": rewrite(store, docs, "asia/a/", texts["asia/a/"])}
    index(stage, store, docs, changed)
    cold, stage = stored(tmp_path / "cold", tmp_path / "cold-state", docs, texts)
    index(stage, cold, docs, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")


@pytest.mark.parametrize(
    "how", [b'{"tariff": [0, "x"]}', b'{"tariff": [0]}', b'{"tariff": 5}', b'{"tariff": [0, 1.5]}']
)
def test_a_term_file_damaged_where_an_edit_reads_it_is_written_whole_again(
    tmp_path: Path, how: bytes
) -> None:
    # (An edit reads only the postings of the terms whose counts changed: tariff here.)
    texts = {"asia/a/": "tariffs on solar panels", "asia/b/": "tariffs and wind"}
    docs = [doc(url) for url in texts]
    store, stage = stored(tmp_path / "inc", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    target = tmp_path / f"inc/search/terms/{shard_of('tariff') % shard_count(2)}.json"
    target.write_bytes(how)
    texts["asia/a/"] = "tariffs on solar panels, tariffs"
    stage = begin(store, tmp_path / "inc", docs)
    changed = {"asia/a/": rewrite(store, docs, "asia/a/", texts["asia/a/"])}
    assert changed == {"asia/a/": {"tariff": 2}}
    index(stage, store, docs, changed)
    cold, stage = stored(tmp_path / "cold", tmp_path / "cold-state", docs, texts)
    index(stage, cold, docs, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")


def test_a_cold_merge_reads_each_article_once_and_any_grouping_writes_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each group of term files read every article's file once: 20 reads an article at
    # 100,000 articles, and the merge was stopped after 50 minutes.
    import broadsheet.search.index as index_module

    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(400)] + VOCABULARY
    urls = [f"asia/p{n:02}/" for n in range(37)]
    docs = [doc(u, f"20{10 + n % 7}-0{1 + n % 9}-11") for n, u in enumerate(urls)]
    store = TermStore(tmp_path / "state")
    stage = begin(store, tmp_path / "whole", docs)
    for url in urls:
        rewrite(store, docs, url, " ".join(rng.choices(vocabulary, k=rng.randint(0, 60))))
    index(stage, store, docs, None)
    reads: list[str] = []
    plain_read = TermStore.read

    def counted_read(self: TermStore, url: str, *more: object) -> object:
        reads.append(url)
        return plain_read(self, url, *more)  # type: ignore[arg-type]

    monkeypatch.setattr(TermStore, "read", counted_read)
    for per_group, per_slice in [(5, 4), (3, 37), (40, 1), (1, 6)]:
        monkeypatch.setattr(index_module, "ARTICLES_PER_GROUP", per_group)
        monkeypatch.setattr(index_module, "ARTICLES_PER_SLICE", per_slice, raising=False)
        reads.clear()  # (each merged from the docs files `store` wrote, in "whole")
        index(Stage(tmp_path / f"split-{per_group}-{per_slice}"), store, docs, None)
        assert sorted(reads) == sorted(urls)
        assert tree(tmp_path / f"split-{per_group}-{per_slice}") == tree(tmp_path / "whole")
    assert not list(tmp_path.glob("state/search-runs-*"))  # (the merge's own runs are gone)


def test_the_runs_a_killed_merge_left_are_removed_and_a_running_ones_kept(tmp_path: Path) -> None:
    store, stage = stored(
        tmp_path / "out", tmp_path / "state", [doc("asia/a/")], {"asia/a/": "rice"}
    )
    left = tmp_path / "state" / "search-runs-999999999"  # (above any pid Linux gives)
    left.mkdir(parents=True)
    (left / "0-0").write_bytes(b"{}")
    running = tmp_path / "state" / "search-runs-1"  # init: always running
    running.mkdir()
    index(stage, store, [doc("asia/a/")], None)
    assert not left.exists() and running.is_dir()


_MERGE_PEAK = """
import random, sys, tracemalloc
from pathlib import Path
import broadsheet.search.index as index_module
from broadsheet.search.terms import count
from broadsheet.publish.stage import Stage
from tests.search.test_index import begin, doc, index

out = Path(sys.argv[1])
rng = random.Random(3)
vocabulary = [f"t{n}" for n in range(300)]  # (many postings a term, as common words)
urls = [f"asia/p{n:03}/" for n in range(600)]
docs = [doc(u) for u in urls]
store = index_module.TermStore(out / "state")
first = begin(store, out / "first", docs)
postings = 0
for url in urls:
    counted = count("", " ".join(rng.sample(vocabulary, 200)))
    postings += len(counted.counts)
    store.put(url, counted, ())
index_module.ARTICLES_PER_GROUP = 10_000  # one group: all of them
index_module.ARTICLES_PER_SLICE = 10
# Merged once first, so that the module's caches (each term's CRC) hold these terms
# already: they are not the merge's memory.
index(first, store, docs, None)
tracemalloc.start()
index(Stage(out / "out"), store, docs, None)
print(tracemalloc.get_traced_memory()[1] / postings)
"""


def test_a_cold_merge_holds_a_few_bytes_a_posting(tmp_path: Path) -> None:
    """The merge's peak is the postings of one group of term files: packed, 8 bytes
    each, where lists of ints took 16 (and 44 when each id was read back as its own
    int), and the group's terms (few here: each has many postings). Measured in a
    process of its own: tracemalloc counts every thread's allocations, and the suite's
    process has other threads (a test server's, the browser driver's). In CI the peak
    there was once 5.1 MB, four times the merge's own; that was not seen again alone."""
    run = subprocess.run(
        [sys.executable, "-c", _MERGE_PEAK, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) < 14  # (19 as lists, 36 as lists of ints read back)


def test_a_merge_that_cannot_write_its_runs_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import broadsheet.search.index as index_module
    from broadsheet.errors import BroadsheetError

    store, stage = stored(
        tmp_path / "out", tmp_path / "state", [doc("asia/a/")], {"asia/a/": "rice"}
    )

    def refused(path: Path, links: bool = True) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(index_module, "make_folder", refused)
    with pytest.raises(BroadsheetError, match="cannot write the search state") as caught:
        index(stage, store, [doc("asia/a/")], None)
    assert str(tmp_path / "state" / "search-runs-") in str(caught.value)


@given(st.integers(min_value=0, max_value=1 << 40))
def test_a_length_is_kept_to_within_one_32nd(length: int) -> None:
    code = length_code(length)
    kept = code_length(code)
    assert abs(kept - length) <= length / 32
    assert length_code(kept) == code  # (the middle of its lengths)
    assert length_code(length + 1) >= code  # longer articles never get a smaller code
    if length < 32:
        assert kept == length


def test_the_browser_reads_a_length_code_as_the_build_does() -> None:
    codes = sorted({length_code(n) for n in range(1 << 16)} | {length_code(1 << 40)})
    assert in_node("codeLength", codes) == [code_length(code) for code in codes]


def test_lengths_beyond_one_file_go_in_the_next(tmp_path: Path, monkeypatch: Any) -> None:
    import broadsheet.search.index as search_index

    monkeypatch.setattr(search_index, "LENGTH_CHUNK", 3)
    texts = {f"asia/p{n}/": " ".join(["word"] * (n + 30)) for n in range(7)}
    docs = [doc(url, f"2024-01-0{n + 1}") for n, url in enumerate(texts)]
    store, stage = stored(tmp_path / "out", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    files = sorted((tmp_path / "out/search/lengths").iterdir())
    codes = [code for f in files for code in json.loads(f.read_text())]
    assert [f.name for f in files] == ["0.json", "1.json", "2.json"]
    assert codes == [length_code(n + 30) for n in range(7)]
    # An edit that moves one article's code, read back from those files, updates them.
    texts["asia/p5/"] += " word" * 200
    stage = begin(store, tmp_path / "out", docs)
    changed = {"asia/p5/": rewrite(store, docs, "asia/p5/", texts["asia/p5/"])}
    index(stage, store, docs, changed)
    cold, stage = stored(tmp_path / "cold", tmp_path / "cold-state", docs, texts)
    index(stage, cold, docs, None)
    assert tree(tmp_path / "out") == tree(tmp_path / "cold")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cold_build_scatters_the_index_as_it_renders_and_writes_the_same(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # A cold build sorts each slice of articles into the merge's runs as it counts them,
    # rather than reading every article's terms back from the store after: the index
    # must be the one merged from the store, to the byte, in one process or in several.
    import broadsheet.publish.render as render_module
    import broadsheet.search.index as index_module
    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    monkeypatch.setattr(index_module, "ARTICLES_PER_SLICE", 7)  # (40 articles: 6 slices)
    monkeypatch.setattr(index_module, "ARTICLES_PER_GROUP", 13)  # (and 4 groups)
    monkeypatch.setattr(render_module, "PARALLEL_MINIMUM", 1)
    reads: list[str] = []
    plain_read = TermStore.read

    def counted_read(self: TermStore, url: str) -> object:
        reads.append(url)
        return plain_read(self, url)

    monkeypatch.setattr(TermStore, "read", counted_read)
    build(load_config(corpus), output=corpus / "scattered", use_cache=False, jobs=jobs)
    assert reads == []  # (in one process: no article read back; in several, no slice)
    scattered = tree(corpus / "scattered")
    assert len([p for p in scattered if p.startswith("search/docs/")]) == 40
    monkeypatch.setattr(
        render_module,
        "_tasks",
        lambda site, indices, cold: [(None, chunk) for chunk in render_module._chunks(indices)],
    )  # (no slice to a task: every slice is read back from the store)
    build(load_config(corpus), output=corpus / "merged", use_cache=False, jobs=jobs)
    assert len(set(reads)) == (40 if jobs == 1 else 0)  # (the workers' reads are their own)
    assert tree(corpus / "merged") == scattered
    assert not list(corpus.rglob("search-runs-*"))


def test_an_article_rendered_again_unchanged_is_not_re_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import broadsheet.search.store as store_module

    store = TermStore(tmp_path / "state")
    begin(store, tmp_path / "out", [doc("asia/a/"), doc("asia/b/")])
    shown = ("Election result", "asia", "1 May 2024", "Ana Ruiz")
    counted = count("Election result", "<p>rice</p>")
    assert store.replace("asia/a/", counted, shown) == dict(sorted(counted.counts.items()))  # (new)
    recounted: list[str] = []  # (the old counts are worked out again only if words changed)
    plain_count = store_module.count_text
    monkeypatch.setattr(
        store_module, "count_text", lambda *a: recounted.append(a[0]) or plain_count(*a)
    )
    assert store.replace("asia/a/", counted, shown) is None  # (rendered again, unchanged)
    # The same terms, but what its result shows changed: its docs file is written again.
    renamed = count("Elections results", "<p>rice</p>")
    assert renamed.counts == counted.counts
    assert recounted == []
    assert store.replace("asia/a/", renamed, ("Elections results", *shown[1:])) == {}
    assert recounted == ["Election result"]  # (a new title: the old counts, once)
    assert store.replace("asia/a/", renamed, ("Elections results", *shown[1:])) is None
    assert store.replace("asia/a/", renamed, ("Elections results", "asia", "2 May", "A")) == {}
    assert recounted == ["Election result"]
    # Counts made with another title than the one stored are refused: they could not be
    # worked out again.
    with pytest.raises(ValueError, match="counted with the title"):
        store.replace("asia/a/", count("", "<p>rice, rice</p>"), shown)
    with pytest.raises(ValueError, match="counted with the title"):
        store.put("asia/b/", count("Rice", "<p>rice</p>"), ())
    # A new title and text: the old title's terms gone and rice's count changed.
    changed = store.replace("asia/a/", count("Rice", "<p>rice, rice</p>"), ("Rice", *shown[1:]))
    assert changed == {"elect": 0, "result": 0, "rice": 5}


def test_an_article_with_a_title_and_no_text_keeps_its_title_s_terms(tmp_path: Path) -> None:
    """(A review's finding.) An article whose body has no text is still indexed by its
    title: its terms are worked out again from the title alone, and a new title takes
    the old one's terms away."""
    docs = [doc("asia/a/", title="Harbour strike"), doc("asia/b/", title="")]
    texts = {"asia/a/": "", "asia/b/": "<p>rice</p>"}
    store, stage = stored(tmp_path / "inc", tmp_path / "state", docs, texts)
    index(stage, store, docs, None)
    assert lookup(tmp_path / "inc", "harbour") == {"asia/a/": 3}
    docs[0] = doc("asia/a/", title="Rice")
    stage = begin(store, tmp_path / "inc", docs)
    changed = {"asia/a/": rewrite(store, docs, "asia/a/", "")}
    assert changed == {"asia/a/": {"harbour": 0, "rice": 3, "strike": 0}}
    index(stage, store, docs, changed)
    cold, stage = stored(tmp_path / "cold", tmp_path / "cold-state", docs, texts)
    index(stage, cold, docs, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")
    assert lookup(tmp_path / "inc", "rice") == {"asia/a/": 3, "asia/b/": 1}


def test_a_template_edit_re_indexes_nothing_and_a_new_headline_shows_in_results(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[int] = []
    update = index_module._update

    def counted(out: Stage, docs: list[Doc], ids: dict[str, int], *rest: Any) -> list[str]:
        updates.append(len(ids))
        return update(out, docs, ids, *rest)

    monkeypatch.setattr(index_module, "_update", counted)
    assert run(["build"]).code == 0
    template = corpus / "templates/article.html"
    template.write_text("{# edited #}" + template.read_text())
    before = tree(corpus / "site/search")
    assert run(["build"]).code == 0
    assert updates == [0]  # (every article rendered again; none re-indexed)
    assert tree(corpus / "site/search") == before
    # A headline whose words have the same stems: the same terms; its result shows it.
    post = sorted((corpus / "content").rglob("*.md"))[7]
    text = post.read_text()
    post.write_text(re.sub(r"(?m)^title: .*$", "title: Election result", text, count=1))
    assert run(["build"]).code == 0
    post.write_text(re.sub(r"(?m)^title: .*$", "title: Elections results", text, count=1))
    assert run(["build"]).code == 0
    assert updates == [0, 1, 1]
    shown = [json.loads(p.read_text()) for p in (corpus / "site/search/docs").glob("*.json")]
    assert "Elections results" in {entry[1] for entry in shown}
    fresh = corpus.parent / "fresh"
    shutil.copytree(corpus, fresh, ignore=shutil.ignore_patterns("site", ".broadsheet-cache"))
    monkeypatch.chdir(fresh)
    assert run(["build"]).code == 0  # (cold)
    assert tree(corpus / "site/search") == tree(fresh / "site/search")


@given(
    st.dictionaries(st.integers(0, 300), st.integers(1, 2**32 - 1), max_size=40),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 9)), max_size=10),
)
def test_a_term_s_postings_are_updated_as_a_dict_of_them_would_be(
    postings: dict[int, int], updates: list[tuple[int, int]]
) -> None:
    # (A term in every article has as many postings as the archive has articles: they
    # are updated in two arrays, where a dict of them took 19 MB at 100,000 articles.)
    flat = [n for pair in sorted(postings.items()) for n in pair]
    expected = dict(postings)
    for number, count_ in updates:
        expected.pop(number, None)
        if count_:
            expected[number] = count_
    wanted = index_module._gapped(sorted(expected), [expected[n] for n in sorted(expected)])
    assert index_module._updated(0, index_module._gapped(flat[0::2], flat[1::2]), updates) == wanted


_LONDON = ZoneInfo("Europe/London")
_MOMENTS = [
    None,
    datetime(2015, 3, 1, 9, 30, tzinfo=_LONDON),
    datetime(2015, 3, 1, 9, 30, 0, 1, tzinfo=_LONDON),
    datetime(2019, 6, 2, 23, 59, tzinfo=_LONDON),
    datetime(2024, 10, 27, 1, 30, tzinfo=_LONDON),  # (an hour the clocks repeat: BST)
    datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=_LONDON),  # (and the same wall time in GMT)
    datetime(2024, 10, 27, 1, 45, tzinfo=_LONDON),
    datetime(2024, 10, 27, 1, 15, fold=1, tzinfo=_LONDON),
    datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
    datetime(2500, 1, 1, 0, 0, 0, 1, tzinfo=_LONDON),  # (a microsecond apart: a float's
    datetime(2500, 1, 1, 0, 0, 0, 2, tzinfo=_LONDON),  # timestamp tells them apart no more)
    datetime(1650, 1, 1, 0, 0, 0, 1, tzinfo=_LONDON),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(range(len(_MOMENTS))), st.sampled_from("abcdefgh")),
        max_size=14,
    )
)
def test_the_posts_in_id_order_are_those_id_order_sorts_their_entries_in(
    chosen: list[tuple[int, str]],
) -> None:
    # From the reading order: the dated backwards and the undated by URL first, when
    # no two dated posts share a moment; else sorted. Either way, id_order's.
    from broadsheet.content.post import Post
    from broadsheet.outputs.listings import reading_order
    from broadsheet.publish.assemble import in_id_order
    from broadsheet.publish.render import search_doc

    posts = [
        Post(
            path=Path(f"/c/asia/{slug}{n}.md"),
            title=f"Title {slug}",
            section="ASIA",
            section_slug="asia",
            slug=f"{slug}{n}",
            date=_MOMENTS[moment],
            has_time=True,
            updated=None,
            author=None,
            tags=(),
            summary=None,
            source=f"raw/a.txt:{n}",
            draft=False,
            body_line=5,
        )
        for n, (moment, slug) in enumerate(chosen)
    ]
    ordered = reading_order(posts)
    expected = [doc.url_path for doc in id_order(map(search_doc, ordered))]
    assert [post.url_path for post in in_id_order(ordered)] == expected
