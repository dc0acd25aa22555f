"""The output's folders' stamps: a build that finds nothing to do checks the site by
the stamps of its folders and files, reading no folder, and still sees every change a
hand makes to it (tests/publish/test_stamp_output.py has the edits of one file)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.publish import cache as cache_module
from broadsheet.publish.cache import (
    OutputCheck,
    cache_path,
    folders_path,
    load_folders,
    stamp_folders,
)
from tests.conftest import lay_out
from tests.publish.test_incremental import cold, edit, warm
from tests.sitecheck import tree_bytes


def _in_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Check the output in this process (not a forked one) and note each time a folder
    of it is read whole."""
    read: list[str] = []

    def no_fork() -> int:
        raise OSError("no fork here")

    walk, same_entries = cache_module._walk, OutputCheck._same_entries
    monkeypatch.setattr(cache_module, "fork", no_fork)
    monkeypatch.setattr(cache_module, "_walk", lambda *a, **k: read.append("walk") or walk(*a, **k))
    monkeypatch.setattr(
        OutputCheck,
        "_same_entries",
        lambda self, folders, known: read.extend(folders) or same_entries(self, folders, known),
    )
    return read


def _folders(project: Path) -> cache_module.Folders:
    """The folders' stamps the last build kept."""
    where = cache_path(load_config(project), (project / "site").resolve())
    return load_folders(folders_path(where))


def test_a_build_that_finds_nothing_to_do_reads_no_folder_of_the_site(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm(small)
    warm(small)  # (folders changed in the last tick of the first are stamped now)
    read = _in_process(monkeypatch)
    assert warm(small).written == 0
    assert read == []
    stray = small / "site/asia/stray.html"  # ... and still sees a file added by hand
    stray.write_text("stray")
    warm(small)
    assert read == ["walk"] and not stray.exists()
    assert tree_bytes(small / "site") == cold(small)


def test_a_cold_builds_folders_stay_stamped_and_are_not_listed_again(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new site's folders are made in its stage, before it is put in place: their
    stamps hold from then on, and the next build with nothing to do lists none of them
    (it listed all 17,457 at 10,000 articles, 0.15 s, when they were stamped as changed
    since the check began). Nor its root, renamed into place after that moment: the
    build lists it as it ends (else the next listed it, and stamped every folder again,
    0.02 s at 10,000)."""
    import time

    from broadsheet.publish import output_dir

    swap = output_dir._swap_in

    def later(output: Path, folder: Path) -> None:
        time.sleep(0.05)  # (the stage's folders a clock's tick older than the swap)
        swap(output, folder)

    monkeypatch.setattr(output_dir, "_swap_in", later)
    warm(small)
    monkeypatch.undo()
    assert [folder for folder, stamp in _folders(small).items() if not stamp] == []
    read = _in_process(monkeypatch)
    assert warm(small).written == 0
    assert read == []


def test_a_folder_too_recent_to_trust_is_read(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder changed in the same tick as its stamp was taken could change again
    without its times moving: it is stamped [] and its entries listed."""
    warm(small)
    read = _in_process(monkeypatch)
    monkeypatch.setattr(cache_module, "_folder_stamp", lambda stat: [1 << 62, 0, stat.st_ino])
    monkeypatch.setattr(cache_module, "_files", None)  # (it takes the real times)
    warm(small)  # the folders' stamps are taken again: every one "in the future"
    assert all(stamp == [] for stamp in _folders(small).values())
    read.clear()
    assert warm(small).written == 0
    assert "asia" in read and "walk" not in read  # listed, not walked with every file
    (small / "site/asia/stray").mkdir()
    (small / "site/asia/stray/index.html").write_text("stray")
    warm(small)
    assert "walk" in read
    assert tree_bytes(small / "site") == cold(small)


def test_a_new_trees_folders_listed_as_it_ends_keep_no_stamp_the_present_could_share(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder of a new tree changed since it was put in place is listed as the build
    ends, and keeps its stamp only if that is older than the present read after it was
    taken (Git's rule): else a change in the same tick of the clock could leave its
    times as they were."""
    monkeypatch.setattr(cache_module, "_folder_stamp", lambda stat: [1 << 62, 0, stat.st_ino])
    monkeypatch.setattr(cache_module, "_files", None)  # (it takes the real times)
    warm(small)  # cold: no cache yet
    assert _folders(small) and all(stamp == [] for stamp in _folders(small).values())


# What a hand (or another program) may do to a built site, and edits of the sources.
DAMAGE = st.sampled_from(
    [
        "add a file",
        "add a folder with a file",
        "add an empty folder",
        "fill the empty folder",
        "delete a file",
        "rename a file",
        "a file becomes a folder",
        "rewrite a file keeping its size and times",
        "touch a file",
        "copy the site afresh (a restored cache's)",
        "edit an article",
        "add an article",
        "remove an article",
    ]
)


def _damage(project: Path, what: str, pick: int) -> None:
    site = project / "site"
    files = sorted(p for p in site.rglob("*") if p.is_file() and not p.name.startswith("."))
    target = files[pick % len(files)]
    articles = sorted((project / "content").rglob("*.md"))
    if what == "add a file":
        (target.parent / "stray.html").write_text("stray")
    elif what == "add a folder with a file":
        (target.parent / "more").mkdir(exist_ok=True)
        (target.parent / "more" / "stray.html").write_text("stray")
    elif what == "add an empty folder":
        (site / "empty").mkdir(exist_ok=True)
    elif what == "fill the empty folder":
        if (site / "empty").is_dir():
            (site / "empty" / "stray.html").write_text("stray")
    elif what == "delete a file":
        target.unlink()
    elif what == "rename a file":
        target.rename(target.with_name("renamed-" + target.name))
    elif what == "a file becomes a folder":
        target.unlink()
        target.mkdir()
    elif what == "rewrite a file keeping its size and times":
        stat = target.stat()
        data = target.read_bytes()
        target.write_bytes(data[::-1])  # (a palindrome is left as it was)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif what == "touch a file":  # (the same bytes: it holds by its hash)
        os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    elif what == "copy the site afresh (a restored cache's)":  # every inode new
        shutil.copytree(site, project / "copied", symlinks=True)
        shutil.rmtree(site)
        (project / "copied").rename(site)
    elif what == "edit an article":
        edit(articles[pick % len(articles)], "\n\n", f"\n\nAn edit {pick}.\n\n")
    elif what == "add an article":
        source = articles[pick % len(articles)]
        text = source.read_text().replace("title: ", f"title: Another {pick} ", 1)
        source.with_name(f"another-{pick}.md").write_text(text)
    elif what == "remove an article" and len(articles) > 6:
        articles[pick % len(articles)].unlink()


def _folder_names(site: Path) -> set[str]:
    """Every folder below `site`, empty ones too (tree_bytes sees only files)."""
    return {str(p.relative_to(site)) for p in site.rglob("*") if p.is_dir()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(DAMAGE, st.integers(0, 10_000)), min_size=1, max_size=4))
def test_after_any_damage_and_edits_the_next_build_is_the_cold_one(
    steps: list[tuple[str, int]],
) -> None:
    """After each step, the build's site is byte for byte a cold build's (with the same
    folders: an empty one made by hand goes too), and the folders' stamps it keeps are
    those of every folder the site has (none missing, as a folder not stamped would
    hide a file added to it), or none (after a site copied afresh: the next check
    reads every folder)."""
    with tempfile.TemporaryDirectory() as folder:
        project = lay_out(Path(folder) / "project")
        from benchmarks.corpus import write_corpus

        write_corpus(project / "content", 8)
        for what, pick in [("build", 0), *steps]:
            if what != "build":
                _damage(project, what, pick)
            warm(project)
            assert tree_bytes(project / "site") == cold(project), what
            assert _folder_names(project / "site") == _folder_names(project / "cold"), what
            shutil.rmtree(project / "cold")
            kept = _folders(project)
            walked = stamp_folders((project / "site").resolve(), 1 << 62)
            if what == "copy the site afresh (a restored cache's)":
                assert kept == {}, what  # (see pipeline._forget_folders)
            assert not kept or kept.keys() == walked.keys(), what
            assert all(stamp == walked[name] or stamp == [] for name, stamp in kept.items()), what


@pytest.mark.parametrize("moment", ["swapped in", "committed in place", "checked"])
def test_a_file_written_into_the_site_while_a_build_runs_is_seen_by_the_next(
    small: Path, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """The folders' stamps are taken as the build ends, but what they vouch for was
    read earlier: a folder changed since the build began to change the site (or, for a
    build with nothing to do, since its check began) is listed by the next check. Else
    a file written meanwhile would be trusted by every build after (a review found it)."""
    from broadsheet.publish import output_dir, pipeline

    warm(small)
    if moment == "committed in place":
        edit(sorted((small / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    if moment == "swapped in":
        shutil.rmtree(small / ".broadsheet-cache")

    def stray() -> None:
        site = small / "site"
        (site / "stray.html").write_text("stray")
        (site / "asia" / "stray.html").write_text("stray")

    if moment == "checked":
        settle = pipeline._settle

        def settle_then_stray(*args: object, **kwargs: object) -> None:
            settle(*args, **kwargs)  # type: ignore[arg-type]
            stray()

        asia = small / "site/asia"  # (the check walks: its folders are taken again)
        os.utime(asia, ns=(asia.stat().st_atime_ns, asia.stat().st_mtime_ns + 10**9))
        monkeypatch.setattr(pipeline, "_settle", settle_then_stray)
    else:
        name = "_swap_in" if moment == "swapped in" else "_apply"
        real = getattr(output_dir, name)

        def then_stray(*args: object) -> None:
            real(*args)
            stray()

        monkeypatch.setattr(output_dir, name, then_stray)
    warm(small)
    monkeypatch.undo()
    assert (small / "site/stray.html").exists()  # (written after the build's last look)
    warm(small)
    assert not (small / "site/stray.html").exists()
    assert not (small / "site/asia/stray.html").exists()
    assert tree_bytes(small / "site") == cold(small)


def test_an_empty_folder_made_by_hand_in_the_site_goes(small: Path) -> None:
    """A cold build makes no empty folder, and a build leaves none (a folder emptied by
    a removal goes with it): one made by hand is not the site's, and the next build
    removes it, as it removes a stray file."""
    warm(small)
    warm(small)
    (small / "site/asia/empty/deeper").mkdir(parents=True)
    warm(small)
    assert not (small / "site/asia/empty").exists()
    assert tree_bytes(small / "site") == cold(small)
    assert warm(small).written == 0
