"""A bad build cache (truncated, random bytes, another version's, wrong in shape, or
pointing at output files that changed) is detected, ignored and rebuilt: the output is
byte-identical to a cold build."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.publish.cache import cache_path
from tests.publish.test_incremental import cold, edit, warm
from tests.sitecheck import tree_bytes


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "random bytes",
        "another version",
        "wrong shape",
        "output file deleted",
        "output file edited",
    ],
)
def test_a_bad_cache_is_ignored_and_the_output_equals_a_cold_build(
    corpus: Path, damage: str
) -> None:
    warm(corpus)
    config = load_config(corpus)
    path = cache_path(config, (corpus / "site").resolve())
    text = path.read_text()
    page = corpus / "site/asia/index.html"
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "random bytes":
        path.write_bytes(os.urandom(4096))
    elif damage == "another version":
        data = json.loads(text)
        data["version"] = "0.0.0-" + data["version"]
        path.write_text(json.dumps(data))
    elif damage == "wrong shape":
        data = json.loads(text)
        data["pages"] = {"index.html": 42}
        path.write_text(json.dumps(data))
    elif damage == "output file deleted":
        page.unlink()
    else:
        page.write_text("tampered")
    edit(sorted((corpus / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    result = warm(corpus)
    assert result.unchanged == 0  # a cold build: nothing from the cache was used
    assert tree_bytes(corpus / "site") == cold(corpus)


@pytest.mark.parametrize("damage", ["output file deleted", "output file edited"])
def test_a_changed_output_is_rebuilt_even_when_no_source_changed(corpus: Path, damage: str) -> None:
    warm(corpus)
    page = corpus / "site/asia/index.html"
    if damage == "output file deleted":
        page.unlink()
    else:
        page.write_text("tampered")
    result = warm(corpus)
    assert result.unchanged == 0
    assert tree_bytes(corpus / "site") == cold(corpus)


def test_a_build_stopped_while_writing_search_terms_is_followed_by_a_cold_one(
    corpus: Path,
) -> None:
    warm(corpus)
    config = load_config(corpus)
    build_cache = cache_path(config, (corpus / "site").resolve())
    state = build_cache.with_name(build_cache.stem.replace("build-", "state-", 1))
    (state / "build-under-way").write_text("")  # as a stopped build leaves it
    for term_file in sorted((state / "terms").iterdir())[::2]:
        term_file.write_text(term_file.read_text()[:7])  # half-written
    edit(sorted((corpus / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    result = warm(corpus)
    assert result.unchanged == 0
    assert tree_bytes(corpus / "site") == cold(corpus)
    assert not (state / "build-under-way").exists()
