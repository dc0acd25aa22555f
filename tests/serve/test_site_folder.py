"""Requests see the dev site whole: never a file outside it, never a missing page while a
build swaps the whole folder for a new one."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from broadsheet.serve.server import SWAP_WAIT, Found, Redirect, SiteFolder, request_parts


def make_site(folder: Path, version: int) -> None:
    for page in ("index.html", "asia/index.html", "css/site.css"):
        (folder / page).parent.mkdir(parents=True, exist_ok=True)
        (folder / page).write_text(f"{page} version {version}\n" * 50)


def test_request_paths_that_name_nothing_are_refused() -> None:
    assert request_parts("asia/rice/") == ["asia", "rice"]
    assert request_parts("/asia//./rice") == ["asia", "rice"]
    for path in ("../etc", "asia/../../x", "a\0b", "a\\b", "a" * 256, "asia/" + "é" * 128):
        assert request_parts(path) is None, path


def test_a_folder_without_its_slash_is_redirected_on_this_host(tmp_path: Path) -> None:
    make_site(tmp_path / "site", 0)
    site = SiteFolder(tmp_path / "site")
    assert site.find("asia") == Redirect("/asia/")
    assert site.find("/asia") == Redirect("/asia/")
    assert (
        site.find("")
        == site.find("/")
        == Found("index.html", (tmp_path / "site/index.html").read_bytes())
    )
    (tmp_path / "site/a b?").mkdir()
    assert site.find("a b?") == Redirect("/a%20b%3F/")


def test_a_named_pipe_in_the_site_is_never_opened(tmp_path: Path) -> None:
    make_site(tmp_path / "site", 0)
    os.mkfifo(tmp_path / "site/pipe.html")
    assert SiteFolder(tmp_path / "site").find("pipe.html") is None


def test_pages_are_found_whole_while_the_site_is_swapped(tmp_path: Path) -> None:
    output, stage = tmp_path / "site", tmp_path / ".site.building"
    old, new = stage / "old", stage / "tree"  # (where a build's swap puts them)
    make_site(output, 0)
    site = SiteFolder(output)
    wrong: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for path in ("", "asia/", "css/site.css"):
                answer = site.find(path)
                if not isinstance(answer, Found) or answer.data.count(b"\n") != 50:
                    wrong.append(f"{path}: {answer!r:.80}")
            if site.find("asia") != Redirect("/asia/"):
                wrong.append("asia: no redirect")

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for version in range(1, 30):  # as a cold build swaps its new tree in, by two renames
        make_site(new, version)
        os.rename(output, old)
        time.sleep(0.002)  # a slow disk between the two renames
        os.rename(new, output)
        shutil.rmtree(stage)
    stop.set()
    for reader in readers:
        reader.join()
    assert not wrong, wrong[:10]


def test_a_new_page_is_found_when_a_swap_stalls_between_its_renames(tmp_path: Path) -> None:
    """A build that stalls between taking the last site away and putting the new one in
    (a loaded machine: the suite once saw a reader give up after fifty looks, a
    millisecond apart) still has its new page found: a request waits up to SWAP_WAIT,
    however many looks that takes; a page the last site has is answered from it at once."""
    output, stage = tmp_path / "site", tmp_path / ".site.building"
    make_site(output, 0)
    make_site(stage / "tree", 1)
    (stage / "tree/africa").mkdir()
    (stage / "tree/africa/index.html").write_text("a new section\n")
    site = SiteFolder(output)
    os.rename(output, stage / "old")  # (mid-swap: the last site has no africa/)
    started = time.monotonic()
    assert site.find("asia/") == Found("index.html", (stage / "old/asia/index.html").read_bytes())
    assert time.monotonic() - started < SWAP_WAIT / 2
    stall = threading.Timer(0.25, os.rename, (stage / "tree", output))
    started = time.monotonic()
    stall.start()
    try:
        answer = site.find("africa/")
    finally:
        stall.join()
    assert answer == Found("index.html", b"a new section\n")
    assert 0.2 < time.monotonic() - started < SWAP_WAIT


def test_without_a_site_a_request_waits_only_while_a_build_is_under_way(tmp_path: Path) -> None:
    """(A review's finding.) The dev server answers on one thread: a request that waits
    holds every other. With no site and no build under way (the first build failed, or
    the site was deleted), nothing will come: the answer is at once. While a build is
    under way with no site yet, a request waits until SWAP_WAIT at most."""
    output, stage = tmp_path / "site", tmp_path / ".site.building"
    site = SiteFolder(output)
    started = time.monotonic()
    assert site.find("asia/") is None and site.find("404.html") is None
    assert time.monotonic() - started < SWAP_WAIT / 2
    make_site(output, 0)
    assert isinstance(site.find("asia/"), Found)
    shutil.rmtree(output)
    started = time.monotonic()
    assert site.find("asia/") is None
    assert time.monotonic() - started < SWAP_WAIT / 2
    stage.mkdir()  # (a build under way, its site not in yet)
    started = time.monotonic()
    assert site.find("asia/") is None
    assert SWAP_WAIT <= time.monotonic() - started < SWAP_WAIT + 0.5
