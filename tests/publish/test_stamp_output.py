"""A build records its output from what the writers noted of the files they wrote, not by
reading them back; and what it records is what the files hold, so that an output file
altered or deleted after the build is still found and rebuilt."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet import stamps
from broadsheet.config import load_config
from broadsheet.publish import render
from broadsheet.publish.cache import cache_path, load_cache, stamp_tree
from broadsheet.publish.stage import Stage, noted_stamps
from tests.photos import photo_bytes
from tests.publish.test_cache import _CoarseClock
from tests.publish.test_incremental import cold, edit, warm
from tests.sitecheck import tree_bytes


@pytest.fixture
def small(project: Path) -> Path:
    """12 articles, one with a photo, one a bundle with a PDF: every kind of writer."""
    from benchmarks.corpus import write_corpus

    write_corpus(project / "content", 12)
    (project / "content/america/boat.jpg").write_bytes(photo_bytes(48, 36, 1))
    (project / "content/america/pictured.md").write_text(
        "---\ntitle: Pictured\ndate: 2019-03-03\n---\n\n![A boat](boat.jpg)\n"
    )
    bundle = project / "content/america/kit"
    bundle.mkdir()
    (bundle / "index.md").write_text("---\ntitle: Kit\ndate: 2019-03-04\n---\n\nSee it.\n")
    (bundle / "report.pdf").write_bytes(b"%PDF-1.4 report\n")
    return project


def _recorded(project: Path) -> tuple[dict[str, list], dict[str, str]]:
    cache = load_cache(cache_path(load_config(project), (project / "site").resolve()))
    assert cache is not None
    return cache.output, cache.output_hashes


def _truth(site: Path) -> tuple[dict[str, list], dict[str, str]]:
    """The output's stamps (without hashes) and hashes, taken by reading every file."""
    found = stamp_tree(site)
    return found, {name: stamps.content_hash(str(site / name)) for name in found}


@pytest.mark.parametrize("jobs", [1, 2], ids=["in process", "in workers"])
def test_a_cold_build_records_its_output_without_reading_a_page_back(
    small: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)  # workers even for a small site
    site = str((small / "site").resolve()) + os.sep
    read: list[str] = []
    real = stamps.content_hash
    monkeypatch.setattr(stamps, "content_hash", lambda p, *a: read.append(p) or real(p, *a))
    warm(small, jobs=jobs)
    assert [path for path in read if path.startswith(site)] == []
    recorded, hashes = _recorded(small)
    truth, true_hashes = _truth(small / "site")
    assert any(name.startswith("media/") for name in truth) and "america/kit/report.pdf" in truth
    assert {name: stamp[:4] for name, stamp in recorded.items()} == truth
    assert hashes == true_hashes
    # A racy file's stamp holds the hash of its bytes.
    assert all(stamp[4] == true_hashes[name] for name, stamp in recorded.items() if stamp[4:])
    assert warm(small, jobs=jobs).written == 0  # and the next build trusts it


@pytest.mark.parametrize("jobs", [1, 2], ids=["in process", "in workers"])
def test_a_page_altered_within_one_tick_after_a_cold_build_is_rebuilt(
    small: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """Times cannot tell this edit (same size, same tick): only the noted hash can."""
    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    _CoarseClock(monkeypatch)
    warm(small, jobs=jobs)
    page = small / "site/asia/index.html"
    text = page.read_text()
    page.write_text(text.replace("<", "[", 1))  # in place: the same inode and size
    warm(small, jobs=jobs)
    assert tree_bytes(small / "site") == cold(small)


@pytest.mark.parametrize("damage", ["deleted", "edited", "added"])
def test_an_output_changed_after_an_incremental_build_is_rebuilt(small: Path, damage: str) -> None:
    """The files an incremental build moved into the site are stamped from the notes too."""
    warm(small)
    article = sorted((small / "content/asia").glob("*.md"))[0]
    edit(article, "\n\n", "\n\nAn edit.\n\n")
    assert warm(small).written > 0
    page = small / "site/asia/index.html"  # rewritten: it lists the edited article
    if damage == "deleted":
        page.unlink()
    elif damage == "edited":
        page.write_text("tampered")
    else:
        (small / "site/asia/stray.html").write_text("stray")
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_notes_that_cannot_be_read_whole_are_not_used(tmp_path: Path) -> None:
    stage = Stage(tmp_path / "tree", private=True, notes=tmp_path / "notes")
    stage.write_text("index.html", "one")
    with open(tmp_path / "notes/999999.jsonl", "ab") as handle:
        handle.write(b'["asia/index.html", 3, 1')  # a writer stopped halfway
    stage.close_notes()
    assert stage.noted is None  # (then the build stamps the output from its files)


FILES = ["index.html", "asia/index.html", "asia/a/index.html", "feed.xml"]
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["write", "remove"]),
        st.sampled_from(FILES),
        st.sampled_from([b"one", b"two", b"three", b""]),
        st.booleans(),  # in a forked process, as a render worker writes
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPERATIONS, st.booleans())
def test_the_notes_say_what_the_stage_holds(
    tmp_path: Path, operations: list[tuple[str, str, bytes, bool]], racy: bool
) -> None:
    """Whatever was written, written again, or removed, in whichever processes: the
    stamps and hashes made from the notes are those taken by reading the files."""
    folder = tmp_path / "stage"
    shutil.rmtree(folder, ignore_errors=True)
    stage = Stage(folder / "tree", private=True, notes=folder / "notes")
    (folder / "tree").mkdir(parents=True)
    for operation, name, data, forked in operations:
        pid = os.fork() if forked else -1
        if pid == 0:
            try:
                _apply(stage, operation, name, data)
            finally:
                os._exit(0)
        elif pid > 0:
            os.waitpid(pid, 0)
        else:
            _apply(stage, operation, name, data)
    stage.close_notes()
    assert stage.noted is not None
    moment = 0 if racy else 1 << 62  # every file racy, or none
    found, hashes = noted_stamps(folder / "tree", stage.noted, moment)
    truth = stamp_tree(folder / "tree", racy=moment)
    assert found == truth
    assert hashes == {name: stamps.content_hash(str(folder / "tree" / name)) for name in truth}


def _apply(stage: Stage, operation: str, name: str, data: bytes) -> None:
    if operation == "write":
        stage.write_bytes(name, data)
    else:
        stage.remove(name)


def test_a_name_the_notes_cannot_hold_makes_them_unused(tmp_path: Path) -> None:
    stage = Stage(tmp_path / "tree", private=True, notes=tmp_path / "notes")
    stage.write_text("index.html", "one")
    stage.write_text("caf\udce9.html", "two")  # a name from undecodable bytes
    stage.close_notes()
    assert stage.noted is None


def test_the_build_after_a_cold_one_reads_back_only_what_the_clock_cannot_tell(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page is hashed in its stamp (and read by the next build to be checked) only if
    its times are not older than the output file system's present when it is stamped
    (Git's rule): not every page written in the last few seconds of the build."""
    warm(small)
    recorded, _ = _recorded(small)
    hashed = {name for name, stamp in recorded.items() if len(stamp) == 5}
    assert len(hashed) <= len(recorded) // 4  # (the pages of the last tick, if any)
    site = str((small / "site").resolve()) + os.sep
    read: list[str] = []
    real = stamps.content_hash
    monkeypatch.setattr(stamps, "content_hash", lambda p, *a: read.append(p) or real(p, *a))
    assert warm(small).written == 0
    assert {path[len(site) :] for path in read if path.startswith(site)} == hashed


@pytest.mark.parametrize("jobs", [1, 2], ids=["in process", "in workers"])
def test_a_page_altered_at_once_after_a_build_keeping_its_size_is_rebuilt(
    small: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """On the real clock: the alteration comes after the build took the present, so
    its times are newer than any the build recorded, however coarse the ticks."""
    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    for _ in range(3):
        warm(small, jobs=jobs)
        for page in (small / "site/index.html", small / "site/search/meta.json"):
            data = page.read_bytes()
            with open(page, "r+b") as handle:  # in place: the same inode and size
                handle.write(b"X" if data[:1] != b"X" else b"Y")
        warm(small, jobs=jobs)
        assert tree_bytes(small / "site") == cold(small)


def _alive_from(project: Path) -> list[object]:
    """The posts and planned sites of `project` still in memory: garbage included, as
    a build leaves it (its collector does not look at what was kept: see long_lived)."""
    from broadsheet.content.post import Post
    from broadsheet.outputs.site import Site

    root = str(project.resolve())
    frozen = gc.get_freeze_count() > 0  # (inside a build: see long_lived)
    gc.unfreeze()  # (get_objects() does not list what is frozen)
    try:
        return [
            found
            for found in gc.get_objects()
            if (type(found) is Post and str(found.path).startswith(root))
            or (type(found) is Site and str(found.config.root) == root)
        ]
    finally:
        if frozen:  # (else the tests after this one would run with everything frozen)
            gc.freeze()


@pytest.mark.parametrize("jobs", [1, 2], ids=["in process", "in workers"])
def test_the_posts_and_the_plan_are_let_go_before_a_whole_output_is_stamped(
    small: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """Stamping a new output whole and saving the cache hold a note of every file the
    site has: at 100,000 articles as much memory as the posts and the plan, so the
    build must not hold both. (The site once stayed through cycles: the signer and its
    own memo, the templates' environment and the helpers that show the site, the
    contexts of the pages rendered in the build's own process.)"""
    from broadsheet.publish import pipeline
    from broadsheet.publish.assemble import load_site

    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    stamp_output = pipeline._stamp_output
    found: list[list[object]] = []

    def stamping(*args: Any, **kwargs: Any) -> Any:
        found.append(_alive_from(small))
        return stamp_output(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_stamp_output", stamping)
    gc.collect()
    warm(small, jobs)  # cold: no cache yet
    shutil.rmtree(small / "site")  # cold again: the cache does not fit the output
    warm(small, jobs)
    assert found == [[], []]
    site = load_site(load_config(small), drafts=False)  # (the check sees them while alive)
    assert len(_alive_from(small)) > len(site.posts) > 0


@pytest.mark.parametrize(
    ("judged", "kept"),
    [(0, True), (-1, False), (None, False)],
    ids=["judged at the moment", "judged before it", "the last build's stamps"],
)
def test_stamps_the_check_took_keep_their_hashes_while_the_moment_it_judged_by_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, judged: int | None, kept: bool
) -> None:
    """A racy page's stamp carries its hash; once the page is no longer racy, the build
    records it without. Stamps the build's own check took (a restored site's) were
    judged racy as of a moment: while the build's is not later, none can have settled,
    and they are kept as they are; else (or when they are the last build's) each is
    settled."""
    from broadsheet.publish import pipeline
    from broadsheet.publish.cache import BuildCache

    site = tmp_path / "site"
    site.mkdir()
    (site / "page.html").write_text("<p>page</p>")
    stamp = stamps.stamp_of(str(site / "page.html"), os.stat(site / "page.html"), 0)
    assert len(stamp) == 5  # (racy by the moment 0: hashed)
    moment = stamps.changed_at(stamp) + 1  # (the page is not racy by it)
    monkeypatch.setattr(pipeline, "racy_after", lambda: moment + 10**9)  # (the present: later)
    cache = BuildCache(output={"page.html": stamp}, output_hashes={"page.html": stamp[4]})
    took = None if judged is None else moment + judged
    found, hashes = pipeline._stamp_output(site, cache, ([], []), moment, judged=took)
    assert found == {"page.html": stamp if kept else stamp[:4]}
    assert hashes == {"page.html": stamp[4]}
