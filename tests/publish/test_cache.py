"""The output check that decides whether the build cache can be trusted: in this
process or in a forked one, it answers the same."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet import paths, stamps
from broadsheet.config import load_config
from broadsheet.publish import cache as cache_module
from broadsheet.publish.cache import (
    SHARES,
    BuildCache,
    OutputCheck,
    Stamps,
    cache_path,
    load_cache,
    save_cache,
    save_folders,
    stamp_folders,
    stamp_tree,
)
from broadsheet.sealed import seal, unseal
from broadsheet.stamps import Stamp, racy_after
from tests.publish.test_incremental import cold, warm
from tests.sitecheck import tree_bytes


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "asia/a-story").mkdir(parents=True)
    (site / "index.html").write_text("<p>latest</p>")
    (site / "asia/a-story/index.html").write_text("<p>a story</p>")
    return site


CHANGES = {
    "nothing": lambda site: None,
    "a page edited": lambda site: (site / "asia/a-story/index.html").write_text("<p>hand</p>"),
    "a page deleted": lambda site: (site / "index.html").unlink(),
    "a file added": lambda site: (site / "asia/stray.html").write_text("stray"),
    "the site gone": lambda site: shutil.rmtree(site),
}


def _kept_folders(site: Path) -> Path:
    """Where the stamps of the folders of `site` are kept, once stamped: then the check
    runs in SHARES processes (see OutputCheck._shares)."""
    kept = site.with_name(f"folders-{site.name}.json")
    save_folders(kept, stamp_folders(site, racy_after()))
    return kept


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "in process"])
@pytest.mark.parametrize("folders", [True, False], ids=["folders stamped", "no folder stamps"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_the_output_check_finds_any_change_to_the_output(
    tmp_path: Path, change: str, forked: bool, folders: bool
) -> None:
    """Whatever the change, the check finds it: in SHARES processes, a share of the
    files each, when the folders' stamps are kept; in one, which reads every folder
    and so stamps every file, when none are (a restored site's)."""
    site = _site(tmp_path)
    kept = _kept_folders(site) if folders else tmp_path / "no-folders.json"
    check = OutputCheck(site, stamp_tree(site), folders=kept)
    CHANGES[change](site)
    with check:
        if forked:
            check.start()
            # forked processes answer, a share each
            assert len(check._pids) == (SHARES if folders else 1)
        assert check.holds() is (change == "nothing")
        assert check.holds() is (change == "nothing")  # asked again: the same answer
    assert check._pids == {}


def _restored(tmp_path: Path) -> tuple[Path, Stamps, dict[str, str]]:
    """A site, its stamps and hashes as a build recorded them; then restored as from a
    CI cache: the same bytes and modification times, every file new to the file system."""
    site = _site(tmp_path)
    for name in ("asia/b-story", "asia/c-story", "europe/d-story"):
        (site / name).mkdir(parents=True)
        (site / name / "index.html").write_text(f"<p>{name}</p>")
    stamped = stamp_tree(site)
    hashes = {name: stamps.content_hash(str(site / name)) for name in stamped}
    shutil.copytree(site, tmp_path / "restored")
    shutil.rmtree(site)
    (tmp_path / "restored").rename(site)
    return site, stamped, hashes


@pytest.mark.parametrize(
    ("forked", "chunk"),
    [(True, cache_module.SENT_CHUNK), (True, 2), (False, 2)],
    ids=["forked", "forked, a few stamps a message", "in process"],
)
def test_a_restored_site_holds_by_its_hashes_and_the_check_gives_its_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool, chunk: int
) -> None:
    monkeypatch.setattr(cache_module, "SENT_CHUNK", chunk)
    site, stamped, hashes = _restored(tmp_path)
    with OutputCheck(site, stamped, hashes) as check:
        if forked:
            check.start()
        assert check.holds() and check.restamp
        assert check.fresh is not None
        assert {name: stamp[:4] for name, stamp in check.fresh.items()} == stamp_tree(site)
        # each just restored (racy): with the hash its bytes were found to have
        assert {name: stamp[4] for name, stamp in check.fresh.items()} == hashes
        assert check.all_fresh  # (none of them the last build's)


def test_a_site_restored_in_part_gives_stamps_not_all_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folders as the last build left them, so that the first share's pages are
    judged by their stamps alone, and those pages as the last build stamped them; the
    rest hold only by their hashes. The check gives the stamps of all, but says that
    some are the last build's (judged racy as of then: they may have settled since)."""
    site = _site(tmp_path)
    for number in range(6):
        (site / f"page-{number}.html").write_text(f"<p>{number}</p>")
    now = stamp_tree(site)
    hashes = {name: stamps.content_hash(str(site / name)) for name in now}
    monkeypatch.setattr(OutputCheck, "_walks", lambda self: False)
    monkeypatch.setattr(OutputCheck, "_known_folders", lambda self: False)
    first, rest = OutputCheck(site, dict(now), hashes)._shares()
    assert first and rest
    stamped = dict(now)
    for name in rest:  # (another file, by its stamp: held by its hash)
        stamped[name] = [*now[name][:3], now[name][3] + 1]
    with OutputCheck(site, stamped, hashes) as check:
        check.start()
        assert check.holds() and check.restamp
        assert check.fresh is not None and not check.all_fresh
        assert {name: stamp[:4] for name, stamp in check.fresh.items()} == now
        assert all(check.fresh[name] is stamped[name] for name in first)  # (the last build's)


def test_a_restored_site_with_a_page_damaged_gives_no_stamps(tmp_path: Path) -> None:
    """One share holds by its hashes, the other fails: the check does not hold, and the
    stamps it took are not offered as the output's."""
    site, stamped, hashes = _restored(tmp_path)
    page = site / sorted(stamped)[-1]  # (in the last share)
    page.write_bytes(page.read_bytes().replace(b"<p>", b"<P>"))
    with OutputCheck(site, stamped, hashes) as check:
        check.start()
        assert not check.holds()
        assert check.fresh is None
        assert check.expected == stamped


def test_a_page_whose_fresh_stamp_cannot_be_told_does_not_end_the_judging(
    tmp_path: Path,
) -> None:
    """A restored page put back with its times, whose hash was not recorded: its fresh
    stamp cannot be told unread, so the check gives none; but a page damaged after it is
    still found, and the site is not trusted."""
    site, stamped, hashes = _restored(tmp_path)
    first, *_, last = list(stamped)
    stamped[first][2] = stamps.RACY_NS  # (as the stamp of a page itself put back)
    del hashes[first]
    page = site / last
    page.write_bytes(page.read_bytes().replace(b"<p>", b"<P>"))
    with OutputCheck(site, dict(stamped), hashes) as check:
        assert not check.holds()
    page.write_bytes(page.read_bytes().replace(b"<P>", b"<p>"))
    with OutputCheck(site, dict(stamped), hashes) as check:
        assert check.holds() and check.restamp and check.fresh is None


def test_a_site_whose_every_page_changed_is_found_out_by_reading_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page edited by hand, each keeping its size: the check says no at the first
    whose bytes no longer hash as recorded, and reads no other (a site restored from a
    CI cache gives every page a new stamp, and each changed one was read before it
    answered)."""
    site, stamped, hashes = _restored(tmp_path)
    for name in stamped:
        page = site / name
        page.write_bytes(page.read_bytes().replace(b"<p>", b"<P>"))
    read: list[str] = []
    hashed = stamps.content_hash
    monkeypatch.setattr(
        stamps, "content_hash", lambda path, *more: read.append(path) or hashed(path, *more)
    )
    with OutputCheck(site, stamped, hashes) as check:
        assert not check.holds()
    assert len(stamped) > 1 and len(read) == 1


@pytest.mark.parametrize("damage", ["cut short", "a stamp malformed", "a file left out"])
def test_fresh_stamps_that_come_back_damaged_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """The stamps a check process sends are used only whole (else the build stamps the
    output again itself)."""
    site, stamped, hashes = _restored(tmp_path)
    send = cache_module._send

    def damaged(writing: int, fresh: list[Stamp]) -> None:
        if damage == "cut short":
            os.write(writing, json.dumps(fresh).encode()[:-9])
            return
        if damage == "a stamp malformed":
            fresh[-1] = [*fresh[-1][:3], "inode"]
        else:
            fresh.pop()
        send(writing, fresh)

    monkeypatch.setattr(cache_module, "_send", damaged)
    with OutputCheck(site, stamped, hashes) as check:
        check.start()
        assert check.holds() and check.restamp
        assert check.fresh is None


def test_a_missing_output_folder_does_not_hold(tmp_path: Path) -> None:
    check = OutputCheck(tmp_path / "nowhere", {})
    check.start()
    assert not check.holds()


def test_the_forked_check_is_never_left_behind(tmp_path: Path) -> None:
    site = _site(tmp_path)
    kept = _kept_folders(site)
    with pytest.raises(RuntimeError), OutputCheck(site, stamp_tree(site), folders=kept) as check:
        check.start()
        pids = list(check._pids.values())
        raise RuntimeError("the build failed meanwhile")
    assert len(pids) == SHARES
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped


@pytest.mark.parametrize("folders", [True, False], ids=["folders stamped", "a restored site"])
def test_the_check_gives_way_to_the_build_unless_the_build_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: bool
) -> None:
    """A check in two processes (an edit's: the folders' stamps kept) is wanted only once
    the build has read and planned, and runs nicer than it, so as not to slow it; the
    walk of a restored site, which the deploy waits for, runs as nice as the build.
    The build's own process is never made nicer."""
    site = _site(tmp_path)
    kept = _kept_folders(site) if folders else tmp_path / "no-folders.json"
    before, check_share = os.nice(0), OutputCheck._check_share

    def told(self: OutputCheck, share: int, names: list[str]) -> tuple[int, object]:
        """(in the process that checks the share: its id and how nice it is)"""
        (tmp_path / f"share-{share}").write_text(f"{os.getpid()} {os.nice(0)}")
        return check_share(self, share, names)

    monkeypatch.setattr(OutputCheck, "_check_share", told)
    with OutputCheck(site, stamp_tree(site), folders=kept) as check:
        check.start()
        assert check.holds()
    assert os.nice(0) == before
    # (a restored site: the first walks it whole; the second, with no files, is not forked)
    forked = range(cache_module.SHARES) if folders else [0]
    for share in forked:
        pid, niceness = map(int, (tmp_path / f"share-{share}").read_text().split())
        assert pid != os.getpid()
        assert niceness == before + (cache_module.NICER if folders else 0)


@pytest.mark.parametrize(
    "stamp",
    [[1, 2, 3], [1, "2", 3, 4], [1, 2, 3, 4, 5], "1234", [1.5, 2, 3, 4], [True, 2, 3, 4], None],
)
def test_a_cache_with_a_malformed_stamp_is_not_loaded(tmp_path: Path, stamp: object) -> None:
    path = tmp_path / "build.json"
    save_cache(path, _cache())
    assert load_cache(path) is not None
    for key in ("inputs", "output"):
        data = _payload(path)
        data[key] = {**data[key], "x": stamp}
        _reseal(tmp_path / "bad.json", data)
        assert load_cache(tmp_path / "bad.json") is None, key


@pytest.mark.parametrize("moment", ["soon", "2030-01-01T00:00:00", "2030-01-01", 5, ["x"]])
def test_a_cache_whose_valid_until_is_not_a_date_with_a_zone_is_not_loaded(
    tmp_path: Path, moment: object
) -> None:
    path = tmp_path / "build.json"
    save_cache(path, _cache(valid_until="2030-01-01T00:00:00+00:00"))
    assert load_cache(path) is not None
    data = _payload(path)
    data["valid_until"] = moment
    _reseal(path, data)
    assert load_cache(path) is None


def test_a_cache_that_does_not_verify_is_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "build.json"
    save_cache(path, _cache())
    data = bytearray(path.read_bytes())
    for at in range(0, len(data), 7):  # any one byte flipped, in the hash or the JSON
        data[at] ^= 0x20
        path.write_bytes(bytes(data))
        assert load_cache(path) is None, at
        data[at] ^= 0x20
    path.write_bytes(bytes(data))
    assert load_cache(path) is not None


def _cache(valid_until: str | None = None) -> BuildCache:
    return BuildCache(
        inputs={"content/a.md": [1, 2, 3, 4], "content/b.md": [1, 2, 3, 4, "ab"]},
        output={"index.html": [3, 4, 5, 6]},
        valid_until=valid_until,
    )


def _payload(path: Path) -> dict[str, Any]:
    payload = unseal(path.read_bytes())
    assert payload is not None
    data: dict[str, Any] = json.loads(payload)
    return data


def _reseal(path: Path, data: dict[str, Any]) -> None:
    path.write_bytes(seal(json.dumps(data).encode()))


# Stamps: an edit is seen whatever it keeps (size, modification time, inode).


def _same_size_edit(path: Path, old: str, new: str, how: str) -> None:
    """Replace `old` by `new` (of the same length) as `cp -p` does (in place, then the
    times set back) or as `rsync -t` does (a new file renamed over it, its times set)."""
    assert len(old) == len(new)
    before = path.stat()
    text = path.read_text()
    assert old in text
    if how == "cp -p":
        path.write_text(text.replace(old, new, 1))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        temporary = path.with_name(f".{path.name}.rsync")
        temporary.write_text(text.replace(old, new, 1))
        os.utime(temporary, ns=(before.st_atime_ns, before.st_mtime_ns))
        temporary.rename(path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _post_edit(project: Path, where: str) -> tuple[Path, str, str]:
    """A same-size edit of a post: five letters of its title or of its body."""
    post = sorted(project.glob("content/*/*.md"))[3 if where == "body" else 5]
    head, _, body = post.read_text().partition("---")[2].partition("---")
    text = body if where == "body" else next(x for x in head.splitlines() if x.startswith("title"))
    word = next(w for w in text.split() if len(w) >= 5 and w.isalpha())[:5]
    return post, word, "Qzzzz"


SAME_SIZE_EDITS: dict[str, Callable[[Path], tuple[Path, str, str]]] = {
    "a post's body": lambda p: _post_edit(p, "body"),
    "a post's title": lambda p: _post_edit(p, "title"),
    "a template": lambda p: (p / "templates/article.html", "Related articles", "Related readings"),
    "a static file": lambda p: (p / "static/css/site.css", "--measure: 68ch;", "--measure: 66ch;"),
    "the settings": lambda p: (p / "pyproject.toml", "Test Archive", "Best Archive"),
}


@pytest.mark.parametrize("how", ["cp -p", "rsync -t"])
def test_an_edit_that_keeps_size_and_modification_time_is_seen(small: Path, how: str) -> None:
    """Every kind of source, edited in turn; then a template edit, which re-renders
    every article (it used to fail: "the file changed during the build")."""
    warm(small)
    for name, edit_of in [*SAME_SIZE_EDITS.items(), ("a template again", _template_again)]:
        path, old, new = edit_of(small)
        _same_size_edit(path, old, new, how)
        warm(small)
        assert tree_bytes(small / "site") == cold(small), name


def _template_again(project: Path) -> tuple[Path, str, str]:
    return project / "templates/article.html", "Related readings", "More like these"[:16].ljust(16)


class _CoarseClock:
    """A file system whose clock has one tick for the whole test (as with 1 or 2 s
    timestamps, when everything happens within one): every file's times are the same,
    so only a hash of its bytes can tell an edit. Its present (`present`, as the build
    lock's times give it: see output_dir.present) stays in that tick while the
    machine's clock (`now`) moves on, unless a test moves it too: a clock that lags."""

    TICK = 1_700_000_000_000_000_000

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        real, walk = stamps.stamp_of, cache_module._walk
        self.present = self.TICK

        def coarse(path: str, stat: os.stat_result, racy: int | None) -> list[Any]:
            tick = self.present if path.endswith(".lock") else self.TICK
            fake = SimpleNamespace(
                st_size=stat.st_size,
                st_mtime_ns=tick,
                st_ctime_ns=tick,
                st_ino=stat.st_ino,
            )
            return real(path, fake, racy)  # type: ignore[arg-type]

        def coarse_walk(
            folder: str, start: int, racy: int | None = None, folders: Any = None
        ) -> dict[str, Any]:
            prefix = folder[: start - 1] + os.sep
            return {
                name: coarse(prefix + name, os.stat(prefix + name), racy)
                for name in walk(folder, start, None, folders)
            }

        def coarse_files(prefix: str, names: Any) -> dict[str, Any]:
            return {name: coarse(prefix + name, os.stat(prefix + name), None) for name in names}

        def coarse_folder(stat: os.stat_result) -> list[int]:
            return [self.TICK, self.TICK, stat.st_ino]  # (a folder's times: one tick too)

        self.now = self.TICK + 1_000_000_000  # within the racy window
        for module in (stamps, cache_module, paths):
            monkeypatch.setattr(module, "stamp_of", coarse)
        monkeypatch.setattr(cache_module, "_walk", coarse_walk)
        monkeypatch.setattr(cache_module, "_stamp_files", coarse_files)
        monkeypatch.setattr(cache_module, "_folder_stamp", coarse_folder)
        monkeypatch.setattr(stamps, "_clock", lambda: self.now)
        # (the compiled loops take the real file system's times: this one is faked here)
        monkeypatch.setattr(paths, "_native_scan", None)
        monkeypatch.setattr(cache_module, "_files", None)


@pytest.mark.parametrize("edit", list(SAME_SIZE_EDITS))
def test_an_edit_within_one_tick_of_the_clock_is_seen(
    small: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    _CoarseClock(monkeypatch)
    warm(small)
    path, old, new = SAME_SIZE_EDITS[edit](small)
    path.write_text(path.read_text().replace(old, new, 1))  # in place: the same inode
    warm(small)
    assert tree_bytes(small / "site") == cold(small)  # (a missed edit keeps the old bytes)


@pytest.mark.parametrize("edit", list(SAME_SIZE_EDITS))
def test_an_edit_within_one_tick_is_seen_through_the_compiled_walk(
    small: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """As above, through the compiled walk (its files' times made the one tick's), in
    one process that builds again, as serve's does: each build hashes a racy file for
    itself (the review's: the second build took the first's hash, kept for the stamp,
    and the edit went unseen)."""
    native = paths._native_scan
    assert native is not None
    _CoarseClock(monkeypatch)

    def scan(folder: bytes, racy: int | None) -> Any:
        files, _, odd, pending = native(folder, racy)
        files = {path: stamps.stamp_of(path, os.stat(path), None) for path in files}
        return files, list(files), odd, pending  # (all racy in the one tick)

    monkeypatch.setattr(paths, "_native_scan", scan)
    warm(small)
    path, old, new = SAME_SIZE_EDITS[edit](small)
    path.write_text(path.read_text().replace(old, new, 1))  # in place: the same inode
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_a_page_edited_in_the_tick_of_a_lagging_clock_is_seen(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The machine's clock moves on, the file system's stays in the tick the site was
    written in: a build that finds nothing to do keeps the output's stamps with their
    hashes (its files are racy by the file system's present), so a page then rewritten
    in place with the same size, in that same tick, is still seen."""
    clock = _CoarseClock(monkeypatch)
    warm(small)
    clock.now += stamps.RACY_NS
    assert warm(small).written == 0
    page = small / "site/index.html"
    data = page.read_bytes()
    at = data.index(b"<title>") + len(b"<title>")
    with open(page, "r+b") as handle:
        handle.seek(at)
        handle.write(bytes([data[at] ^ 0x20]))
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_a_page_replaced_in_the_tick_of_a_lagging_clock_is_not_taken_as_restored(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The machine's clock moves on, the file system's stays in one tick (coarse, or
    lagging): a build that finds nothing to do keeps the output's stamps without their
    hashes. A page then replaced by another file of the same size (an editor saving by
    a rename) has its recorded size and time, in another inode: it is not taken for the
    page put back by a CI cache's restore (see stamps.is_restored), and is rebuilt."""
    clock = _CoarseClock(monkeypatch)
    warm(small)
    clock.now += stamps.RACY_NS
    assert warm(small).written == 0  # (the stamps settled: no hashes)
    page = small / "site/index.html"
    data = page.read_bytes()
    at = data.index(b"<title>") + len(b"<title>")
    replacement = page.with_name(".index.html.edit")
    replacement.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :])
    replacement.replace(page)
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_racy_stamps_settle_once_their_files_are_safely_old(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files changed just before a build are hashed; a later build that finds nothing
    to do keeps their stamps without the hash, so the next reads no file to check."""
    clock = _CoarseClock(monkeypatch)
    warm(small)
    where = cache_path(load_config(small), (small / "site").resolve())
    kept = load_cache(where)
    assert kept is not None
    assert all(len(s) == 5 for s in [*kept.inputs.values(), *kept.output.values()])
    clock.now += stamps.RACY_NS  # time passes: nothing is racy any more
    clock.present += stamps.RACY_NS  # (on the file system too)
    assert warm(small).written == 0
    kept = load_cache(where)
    assert kept is not None
    assert all(len(s) == 4 for s in [*kept.inputs.values(), *kept.output.values()])
    hashed = []
    monkeypatch.setattr(stamps, "content_hash", lambda path, *a: hashed.append(path) or "")
    assert warm(small).written == 0 and hashed == []


def test_a_stamp_with_a_hash_holds_while_the_bytes_do(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("one")
    racy = stamps.stamp_file(str(path), racy=0)  # everything counts as racy
    plain = stamps.stamp_file(str(path), racy=None)
    assert len(racy) == 5 and len(plain) == 4
    assert stamps.unchanged(racy, plain, str(path))
    path.write_text("two")  # same size; the times may or may not move on
    now = stamps.stamp_file(str(path), racy=None)
    assert not stamps.unchanged(racy, now[:2] + racy[2:4], str(path))
    assert stamps.unchanged(plain, now, str(path)) is (now == plain)


def test_a_post_with_a_lone_carriage_return_builds(small: Path) -> None:
    """Its body is read again as the post was read (a lone CR is a newline)."""
    (small / "content/asia/cr.md").write_text(
        "---\ntitle: A lone CR\ndate: 2020-01-01\n---\n\nOne line\rand another.\n"
    )
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_a_check_process_killed_before_it_answers_is_asked_again_here(tmp_path: Path) -> None:
    parent = os.getpid()

    class Slow(OutputCheck):
        def _check_share(self, share: int, names: list[str]) -> tuple[int, Stamps | None]:
            if os.getpid() != parent and share == 1:  # killed before it answers
                signal.pause()
            return super()._check_share(share, names)

    for change in ("nothing", "a page edited"):
        site = _site(tmp_path / change)
        with Slow(site, stamp_tree(site), folders=_kept_folders(site)) as check:
            CHANGES[change](site)
            check.start()
            assert len(check._pids) == SHARES
            os.kill(check._pids[1], signal.SIGKILL)  # the out-of-memory killer, say
            assert check.holds() is (change == "nothing")  # the share checked here instead


def test_a_build_that_finds_nothing_to_do_reads_only_the_head_of_the_cache(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages' signatures and the files' hashes (the cache's rest: two thirds of its
    bytes) are read by a build that changes something, or a check that finds a stamp
    changed; not by one that finds nothing to do (checked here in this process)."""
    from tests.publish.test_incremental import edit

    def no_fork() -> int:
        raise OSError("no fork here")

    read: list[Path] = []
    real = cache_module.load_rest
    monkeypatch.setattr(cache_module, "fork", no_fork)
    monkeypatch.setattr(cache_module, "load_rest", lambda *a: read.append(a[0]) or real(*a))
    warm(small)
    read.clear()
    assert warm(small).written == 0
    assert read == []
    page = small / "site/index.html"  # rewritten as it was: only its hash says so
    stat = page.stat()
    page.write_bytes(page.read_bytes())
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert warm(small).written == 0
    assert len(read) == 1
    read.clear()
    edit(sorted((small / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    assert warm(small).written > 0
    assert len(read) == 1
    assert tree_bytes(small / "site") == cold(small)


def test_ctrl_c_while_waiting_for_the_check_leaves_no_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while it waits for the processes checking the output, the build
    stops them and reaps them (serve lives on: it would collect zombies)."""
    import time

    site = _site(tmp_path)
    parent = os.getpid()
    real = OutputCheck._check_share

    def slow(self: OutputCheck, share: int, names: list[str]) -> tuple[int, Stamps | None]:
        if os.getpid() != parent:
            time.sleep(30)
        return real(self, share, names)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(OutputCheck, "_check_share", slow)
    before = signal.signal(signal.SIGALRM, interrupt)
    try:
        folders = _kept_folders(site)
        with (
            pytest.raises(KeyboardInterrupt),
            OutputCheck(site, stamp_tree(site), folders=folders) as check,
        ):
            check.start()
            pids = list(check._pids.values())
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            check.holds()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    assert len(pids) == SHARES
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped, at once: not after its 30 seconds


def test_the_rest_of_the_cache_names_files_by_the_strings_of_its_head(small: Path) -> None:
    # The output's files are named in the head's stamps, the pages' signatures and the
    # files' hashes, each parsed apart: one copy of each name is kept (60 MB of copies
    # at 100,000 articles, a twelfth of an edit's peak).
    warm(small)
    (where,) = (small / ".broadsheet-cache").glob("build-*.json")
    cache = cache_module.load_cache(where)
    assert cache is not None
    outputs = {id(name) for name in cache.output}
    sources = {id(name) for name in cache.inputs}
    rest = cache.rest()
    assert rest.whole and rest.pages and rest.output_hashes and rest.input_hashes
    assert all(id(name) in outputs for name in (*rest.pages, *rest.output_hashes))
    assert all(id(name) in sources for name in rest.input_hashes)
    assert rest.pages.keys() <= cache.output.keys() == rest.output_hashes.keys()


def test_this_builds_stamps_share_the_last_builds_lists_where_they_are_equal() -> None:
    from broadsheet.publish.cache import share_stamps

    kept = {"content/a.md": [1, 2, 0, 3], "content/b.md": [4, 5, 0, 6], "gone.md": [7, 8, 0, 9]}
    taken = {
        "content/a.md": [1, 2, 0, 3],  # unchanged
        "content/b.md": [4, 50, 0, 6],  # edited
        "content/c.md": [10, 11, 0, 12],  # new
    }
    before = {name: list(stamp) for name, stamp in taken.items()}
    share_stamps(taken, kept)
    assert taken == before and list(taken) == list(before)
    assert taken["content/a.md"] is kept["content/a.md"]
    assert taken["content/b.md"] is not kept["content/b.md"]
    assert kept["content/b.md"] == [4, 5, 0, 6] and len(kept) == 3


def test_a_source_that_hashes_as_recorded_takes_its_new_stamp_in_the_last_builds(
    tmp_path: Path,
) -> None:
    # A fresh clone: each file gets a new stamp. One whose bytes hash as the last build
    # recorded is unchanged, and its new stamp stands for the old one from then on
    # (the old lists let go); one whose bytes differ is changed, its old stamp kept.
    from broadsheet.publish.cache import changed_names

    names = ("content/same.md", "content/edited.md", "content/gone.md")
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"{name}\n")
    kept = {name: stamps.stamp_file(str(tmp_path / name), None) for name in names}
    recorded = {name: stamps.content_hash(str(tmp_path / name)) for name in names}
    (tmp_path / "content/same.md").unlink()
    (tmp_path / "content/same.md").write_text("content/same.md\n")  # (a new inode)
    (tmp_path / "content/edited.md").write_text("content/EDITED.md\n")  # (the same size)
    (tmp_path / "content/gone.md").unlink()
    taken = {name: stamps.stamp_file(str(tmp_path / name), None) for name in names[:2]}
    assert taken["content/same.md"] != kept["content/same.md"]
    stamps.HASHED.clear()
    old = {name: list(stamp) for name, stamp in kept.items()}
    assert changed_names(old, taken, tmp_path, recorded) == {"content/edited.md", "content/gone.md"}
    assert old == kept  # (without adopting, nothing changes)
    assert changed_names(kept, taken, tmp_path, recorded, adopt=True) == set(names[1:])
    assert kept["content/same.md"] is taken["content/same.md"]
    assert kept["content/edited.md"] == old["content/edited.md"]
    assert kept["content/gone.md"] == old["content/gone.md"] and len(kept) == 3
    stamps.HASHED.clear()


def _rest_of(cache: BuildCache) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    rest = cache.rest()
    assert rest.whole
    return rest.pages, rest.input_hashes, rest.output_hashes


def test_a_head_saved_with_its_names_in_another_order_keeps_its_rest_right(small: Path) -> None:
    """The rest's signatures and hashes are kept in the order of the head's names. A
    head saved again without its rest read (a build that found nothing to do, keeping
    the stamps it verified) whose names come in another order has its rest written in
    that order: never read back against the wrong names."""
    warm(small)
    (where,) = (small / ".broadsheet-cache").glob("build-*.json")
    before = load_cache(where)
    assert before is not None
    expected = _rest_of(before)
    for reorder in (lambda m: dict(reversed(m.items())), lambda m: dict(sorted(m.items()))):
        cache = load_cache(where)
        assert cache is not None
        cache.inputs, cache.output = reorder(cache.inputs), reorder(cache.output)
        save_cache(where, cache)
        again = load_cache(where)
        assert again is not None
        assert list(again.output) == list(cache.output)
        assert _rest_of(again) == expected
    assert warm(small).written == 0


def test_a_head_saved_in_another_order_over_a_rest_not_its_own_keeps_it_untrusted(
    small: Path,
) -> None:
    warm(small)
    (where,) = (small / ".broadsheet-cache").glob("build-*.json")
    cache = load_cache(where)
    assert cache is not None
    cache_module.rest_path(where).write_bytes(b"damaged")
    cache.output = dict(reversed(cache.output.items()))
    save_cache(where, cache)
    again = load_cache(where)
    assert again is not None and not again.rest().whole


_NAMES = st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=8)


@given(outputs=_NAMES, sources=_NAMES, data=st.data())
@settings(max_examples=60, deadline=None)
def test_the_rest_comes_back_as_it_was_saved_whatever_the_head_names(
    tmp_path_factory: pytest.TempPathFactory,
    outputs: list[str],
    sources: list[str],
    data: st.DataObject,
) -> None:
    """Signatures and hashes of files the head names, and of some it does not (kept
    beside the lists), come back as they were, keyed by the head's own strings."""
    others = st.sampled_from([*outputs, "elsewhere.html", "gone/x"])
    values = st.text(min_size=1, max_size=4)
    pages = data.draw(st.dictionaries(others, values))
    output_hashes = data.draw(st.dictionaries(others, values))
    input_hashes = data.draw(st.dictionaries(st.sampled_from([*sources, "old.md"]), values))
    stamp = [1, 2, 3, 4]
    where = tmp_path_factory.mktemp("cache") / "build-x.json"
    cache = BuildCache(
        {name: list(stamp) for name in sources},
        {},
        pages,
        {name: list(stamp) for name in outputs},
        input_hashes=input_hashes,
        output_hashes=output_hashes,
    )
    save_cache(where, cache)
    loaded = load_cache(where)
    assert loaded is not None
    rest = loaded.rest()
    assert rest.whole
    assert (rest.pages, rest.output_hashes, rest.input_hashes) == (
        pages,
        output_hashes,
        input_hashes,
    )
    heads = {id(name) for name in (*loaded.output, *loaded.inputs)}
    assert all(id(name) in heads for name in rest.pages if name in loaded.output)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("name", ["a\0b.html", "\ud800.html"])
def test_a_cache_naming_a_file_no_path_can_have_is_not_trusted_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, compiled: bool
) -> None:
    """A damaged cache (sealed again by hand) whose output names a file no path can
    have (a NUL, a lone surrogate: os.lstat raises ValueError, not OSError), checked in
    the build's own process (no fork), by the compiled loops or without them: the site
    does not hold, and no traceback. (Without the compiled loops, stamping the files
    raised "embedded null byte".)"""
    site = _site(tmp_path)
    expected = {**stamp_tree(site), name: [1, 2, 3, 4]}
    folders = tmp_path / "folders.json"
    cache_module.save_folders(folders, cache_module.stamp_folders(site, racy_after() + 10**12))

    def no_fork() -> int:
        raise OSError("no fork here")

    monkeypatch.setattr(cache_module, "fork", no_fork)
    if not compiled:
        monkeypatch.setattr(cache_module, "_files", None)
    with OutputCheck(site, expected, {}, folders) as check:
        check.start()
        assert check.holds() is False
