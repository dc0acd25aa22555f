"""The index is a pure function of the articles, whether written whole or updated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadsheet.publish.stage import Stage
from broadsheet.search.index import Doc, TermStore, write_index
from broadsheet.search.terms import weigh

SECTIONS = [("asia", "Asia"), ("america", "America")]


def docs_for(texts: dict[str, str]) -> list[Doc]:
    return [Doc(url, url.title(), url.split("/")[0], "", "") for url in sorted(texts)]


def index(out: Path, store: TermStore, texts: dict[str, str], changed: dict | None) -> None:
    write_index(Stage(out), docs_for(texts), SECTIONS, store, changed)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def lookup(out: Path, term: str) -> dict[str, int]:
    meta = json.loads((out / "search/meta.json").read_text())
    docs = json.loads((out / "search/docs/0.json").read_text())
    table = json.loads((out / f"search/terms/{term[:2]}.json").read_text())
    flat = table.get(term, [])
    return {docs[i][0]: w for i, w in zip(flat[::2], flat[1::2], strict=True)} | (
        {} if meta["docs"] == len(docs) else {"?": 0}
    )


def test_an_update_after_edits_equals_a_cold_index(tmp_path: Path) -> None:
    texts = {
        "asia/a/": "<p>tariffs on solar panels</p>",
        "asia/b/": "<p>solar farms in the desert</p>",
        "america/c/": "<p>panels and tariffs, again tariffs</p>",
    }
    store = TermStore(tmp_path / "state")
    for url, text in texts.items():
        store.replace(url, weigh(url, text))
    index(tmp_path / "inc", store, texts, None)
    assert set(lookup(tmp_path / "inc", "tariffs")) == {"asia/a/", "america/c/"}
    before = (tmp_path / "inc/search/terms/de.json").read_bytes()

    texts["asia/a/"] = "<p>wind turbines replace solar</p>"
    changed = {"asia/a/": store.replace("asia/a/", weigh("asia/a/", texts["asia/a/"]))}
    assert "tariffs" in changed["asia/a/"] and "wind" in changed["asia/a/"]
    index(tmp_path / "inc", store, texts, changed)
    assert set(lookup(tmp_path / "inc", "tariffs")) == {"america/c/"}
    assert set(lookup(tmp_path / "inc", "wind")) == {"asia/a/"}
    assert (tmp_path / "inc/search/terms/de.json").read_bytes() == before  # untouched

    cold_store = TermStore(tmp_path / "cold-state")
    for url, text in texts.items():
        cold_store.replace(url, weigh(url, text))
    index(tmp_path / "cold", cold_store, texts, None)
    assert tree(tmp_path / "inc") == tree(tmp_path / "cold")


def test_a_new_article_renumbers_by_rebuilding_the_index(tmp_path: Path) -> None:
    texts = {"asia/b/": "<p>rice harvest</p>"}
    store = TermStore(tmp_path / "state")
    store.replace("asia/b/", weigh("asia/b/", texts["asia/b/"]))
    index(tmp_path / "out", store, texts, None)
    texts["asia/a/"] = "<p>rice prices</p>"  # sorts first: every id moves
    changed = {"asia/a/": store.replace("asia/a/", weigh("asia/a/", texts["asia/a/"]))}
    index(tmp_path / "out", store, texts, changed)
    assert set(lookup(tmp_path / "out", "rice")) == {"asia/a/", "asia/b/"}
    assert set(lookup(tmp_path / "out", "harvest")) == {"asia/b/"}


def test_terms_of_deleted_articles_are_forgotten(tmp_path: Path) -> None:
    store = TermStore(tmp_path / "state")
    store.replace("asia/a/", {"x": 1})
    store.replace("asia/b/", {"y": 1})
    store.forget_others(["asia/b/"])
    assert store.read("asia/a/") == {} and store.read("asia/b/") == {"y": 1}
    assert store.has_all(["asia/b/"]) and not store.has_all(["asia/a/", "asia/b/"])


def test_a_term_file_puts_each_term_on_its_line_also_once_the_shard_cache_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zlib

    from broadsheet.sealed import unseal
    from broadsheet.search import index
    from broadsheet.search.terms import bucket_of

    monkeypatch.setattr(index, "SHARDS_KEPT", 5)  # emptied again and again below
    weights = {f"{letter}{letter}term": n for n, letter in enumerate("abcdefgh", 1)}
    store = TermStore(tmp_path)
    store.replace("asia/a/", weights)
    payload = unseal((tmp_path / index._name("asia/a/")).read_bytes())  # (sealed)
    assert payload is not None
    lines = payload.decode().split("\n")
    assert len(lines) == index.SHARDS + 1  # a line per shard, and the last newline
    for term, weight in weights.items():
        line = zlib.crc32(bucket_of(term).encode()) % index.SHARDS
        assert f"{term} {weight}" in f" {lines[line]} ", term
    assert store.read("asia/a/") == weights
    assert len(index._SHARDS) <= 5


def test_a_cold_build_puts_the_same_file_that_replace_writes(tmp_path: Path) -> None:
    weights = weigh("Sealion launch", "<p>Sealion sales rise; sales of cars.</p>")
    put, replaced = TermStore(tmp_path / "new" / "terms"), TermStore(tmp_path / "old")
    put.put("asia/a/", weights)  # (its folder made as needed)
    replaced.replace("asia/a/", weights)
    assert put.path("asia/a/").read_bytes() == replaced.path("asia/a/").read_bytes()
    assert put.read("asia/a/") == weights
    put.put("asia/a/", {"other": 7})  # over an old file: nothing of it is left
    assert put.read("asia/a/") == {"other": 7}
