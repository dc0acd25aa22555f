"""A build cache on a full disk (it may be a link to another disk) is left alone: the
build goes on without it and says so in one line, as the README promises for a cache
the build cannot write. Before, the first write that failed stopped the build."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from tests.conftest import run
from tests.reliability.helpers import leftovers, site_of

CACHE = ".broadsheet-cache"


def full(write):  # type: ignore[no-untyped-def]
    """`write`, refused with "No space left on device" for anything in the build cache."""

    def refused(path: Path, *args: object, **kwargs: object) -> object:
        if CACHE in Path(path).parts:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write(path, *args, **kwargs)

    return refused


@pytest.mark.parametrize(
    ("module", "name", "what"),
    [
        ("broadsheet.search.store", "write_sealed", "cannot write the search state"),
        ("broadsheet.search.index", "write_in_place", "cannot write the search state"),
        ("broadsheet.publish.assemble", "make_folder", "cannot write the build cache"),
    ],
    ids=["search order", "index merge", "build mark"],
)
def test_a_full_cache_disk_builds_without_the_cache_and_says_so(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, module: str, name: str, what: str
) -> None:
    import importlib

    reference = seeded.parent / "reference"
    shutil.copytree(seeded, reference)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.chdir(reference)
    assert run(["build", "--quiet"]).code == 0
    monkeypatch.chdir(seeded)
    target = importlib.import_module(module)
    monkeypatch.setattr(target, name, full(getattr(target, name)))
    for attempt in range(2):  # (the second finds the cache the first could not finish)
        result = run(["build", "--quiet"])
        assert result.code == 0, result.err
        lines = result.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"warning: {CACHE}/"), result.err
        assert f"{what}: No space left on device; building without the build cache" in lines[0]
        assert site_of(seeded) == site_of(reference), attempt
        assert leftovers(seeded) == []
    monkeypatch.undo()  # the disk has room again: the cache is used, and right
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.chdir(seeded)
    result = run(["build", "--quiet"])
    assert result.code == 0 and result.err == ""
    assert site_of(seeded) == site_of(reference)


def test_an_edit_whose_search_state_cannot_be_written_builds_without_the_cache(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit that moves an article (dated: the seed's are not, and come first, by
    URL) keeps the new order of the index (TermStore.keep_order)."""
    from broadsheet.search import store

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert run(["build", "--quiet"]).code == 0
    post = sorted((seeded / "content/asia").glob("*.md"))[0]
    dated = post.read_text().replace("\nsection: ASIA\n", "\nsection: ASIA\ndate: 2020-01-01\n", 1)
    assert "date: 2020" in dated
    post.write_text(dated + "\nA new last paragraph.\n")
    reference = seeded.parent / "reference"
    shutil.copytree(seeded, reference, ignore=shutil.ignore_patterns(CACHE, "site"))
    monkeypatch.chdir(reference)
    assert run(["build", "--quiet"]).code == 0
    monkeypatch.chdir(seeded)
    monkeypatch.setattr(store, "write_sealed", full(store.write_sealed))
    result = run(["build", "--quiet"])
    assert result.code == 0, result.err
    assert result.err.startswith(f"warning: {CACHE}/") and result.err.count("\n") == 1
    assert "cannot write the search state: No space left on device; building" in result.err
    assert site_of(seeded) == site_of(reference)
