"""Through the real server, over HTTP: after each kind of edit, every page serve serves
is the cold build's, byte for byte (apart from the live-reload script); and a crowd of
readers during edits only ever gets whole pages, old or new."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from broadsheet.serve.server import LIVE_SCRIPT
from tests.conftest import write_post
from tests.serve.conftest import Server
from tests.sitecheck import tree_bytes

POST = "content/america/does-us-afghanistan-policy-have-a-future.md"


def cold_build(project: Path, url: str) -> dict[str, bytes]:
    """What a cold `build --drafts --base-url URL` of the project makes."""
    out = project.parent / "cold"
    build(load_config(project, {"base_url": url}), output=out, drafts=True, use_cache=False, jobs=1)
    site = tree_bytes(out)
    site.pop(".broadsheet-output")
    return site


def served_as_built(server: Server, site: dict[str, bytes], gone: set[str]) -> list[str]:
    """The files whose served bytes differ from the cold build's (or that should be gone)."""
    wrong = [path for path, data in site.items() if server.page(_url(path)) != data]
    return wrong + [path for path in gone if server.fetch_bytes(_url(path))[0] != 404]


def _url(path: str) -> str:
    return path.removesuffix("index.html")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def steps(root: Path) -> list[tuple[str, Callable[[], None]]]:
    """The edits the issue found stale listings after; test_equivalence.py makes all."""
    post = root / POST
    asia = sorted((root / "content/asia").glob("*.md"))
    return [
        ("headline", lambda: edit(asia[0], "title: ", "title: Headline edited, ")),
        ("date added", lambda: edit(asia[1], "title: ", "date: 2024-02-09\ntitle: ")),
        ("tags", lambda: edit(post, "title: ", "tags: [trade, energy]\ntitle: ")),
        ("post added", lambda: write_post(root, "asia/added.md", "---\ntitle: Added\n---\n\nA.\n")),
        ("post renamed", lambda: os.replace(asia[0], asia[0].with_name("renamed.md"))),
        ("post deleted", lambda: asia[3].unlink()),
    ]


def test_serve_equals_a_cold_build_after_each_kind_of_edit(server: Server, seeded: Path) -> None:
    site = cold_build(seeded, server.url)
    for name, change in steps(seeded):
        change()
        before, site = site, cold_build(seeded, server.url)
        gone = set(before) - set(site)
        deadline = time.monotonic() + 30
        while (wrong := served_as_built(server, site, gone)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not wrong, f"after the {name} edit, serve differs from a cold build: {wrong}"


PAGES = ["", "asia/", "america/", "archive/", "feed.xml", "css/site.css", "search/"]


def test_readers_during_edits_get_whole_pages(server: Server, seeded: Path) -> None:
    versions: dict[str, set[bytes]] = {}

    def remember() -> None:
        for path, data in cold_build(seeded, server.url).items():
            versions.setdefault(_url(path), set()).add(data)

    remember()
    article = _url(next(p for p in versions if p.startswith("america/") and p.count("/") == 2))
    pages = [*PAGES, article]
    answers: set[tuple[str, int, bytes]] = set()  # judged once every version is known
    stop = threading.Event()

    def read(n: int) -> int:
        count = 0
        while not stop.is_set() or count < 100:
            path = pages[(n + count) % len(pages)]
            status, body = server.fetch_bytes(path)
            answers.add((path, status, body.replace(LIVE_SCRIPT.encode(), b"")))
            count += 1
        return count

    post = seeded / POST
    with ThreadPoolExecutor(max_workers=20) as readers:
        counts = [readers.submit(read, n) for n in range(20)]
        for n in range(4):
            edit(post, "title: ", f"title: Edit {n} ")  # its pages, listings and feeds
            remember()
            server.wait_for(article, lambda status, body, n=n: f"Edit {n} " in body)
        settings = seeded / "pyproject.toml"
        edit(settings, 'title = "Test Archive"', 'title = "Retitled"')  # a whole new site
        remember()
        server.wait_for("", lambda status, body: "Retitled" in body)
        stop.set()
        total = sum(count.result() for count in counts)
    assert total >= 2000
    wrong = [
        f"/{path}: {status}, {len(body)} bytes"
        for path, status, body in answers
        if status != 200 or body not in versions[path]
    ]
    assert not wrong, wrong[:20]
