"""After any sequence of front matter edits (titles, summaries, dates, tags, authors,
bodies), an incremental build equals a cold build, byte for byte: a title or summary
edit signs again only the pages that show the post (see Signer.sign_all), the others all."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.corpus import write_corpus
from tests.conftest import lay_out
from tests.publish.test_incremental import bump, cold, warm
from tests.sitecheck import tree_bytes

WORDS = ("Harbour", "Talks", "Budget", "Election", "Harbour talks", "Court")


def _front(path: Path, change: Callable[[str], str]) -> None:
    head, _, rest = path.read_text().partition("\n---\n")
    path.write_text(change(head) + "\n---\n" + rest)
    bump(path)


def _set(key: str, value: str) -> Callable[[str], str]:
    def change(head: str) -> str:
        pattern = re.compile(rf"^{key}: .*$", re.MULTILINE)
        line = f"{key}: {value}"
        return pattern.sub(line, head) if pattern.search(head) else f"{head}\n{line}"

    return change


EDITS = st.one_of(
    st.sampled_from(WORDS).map(lambda w: ("title", _set("title", f"{w} {len(w)}"))),
    st.sampled_from(WORDS).map(lambda w: ("summary", _set("summary", w))),
    st.sampled_from(("2016-01-02", "2018-05-06 10:00", "2021-07-08")).map(
        lambda d: ("date", _set("date", d))
    ),
    st.sampled_from(("[courts]", "[trade, courts]", "[energy]")).map(
        lambda t: ("tags", _set("tags", t))
    ),
    st.sampled_from(("Ann Lee", "Grace Quinn")).map(lambda a: ("author", _set("author", a))),
    st.just(("body", lambda head: head)),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = lay_out(tmp_path_factory.mktemp("metadata") / "project")
    write_corpus(root / "content", 16)
    return root


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.integers(0, 15), EDITS), min_size=1, max_size=3))
def test_after_front_matter_edits_an_incremental_build_equals_a_cold_one(
    small: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, object]]
) -> None:
    project = tmp_path_factory.mktemp("edits") / "project"
    shutil.copytree(small, project)
    posts = sorted((project / "content").rglob("*.md"))
    warm(project)
    for which, (_, change) in edits:  # type: ignore[misc]
        path = posts[which % len(posts)]
        _front(path, change)
        path.write_text(path.read_text() + f"\nA line for edit {which}.\n")  # and its body
        bump(path)
        warm(project)
        assert tree_bytes(project / "site") == cold(project)
