"""How long after an author saves a post does the browser show it? (`broadsheet serve`)

    python benchmarks/serve_edit.py --articles 2000      # a generated archive
    python benchmarks/serve_edit.py --seeds               # the seed archive

Starts a real `broadsheet serve` on a free port, connects a live-reload client as a
browser does, then edits one article's body several times. For each edit it measures
the time from the file being written to (a) the reload message reaching the client and
(b) the new text being served, and prints the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.corpus import write_corpus  # noqa: E402


def make_project(root: Path, articles: int | None) -> Path:
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    if articles is None:
        shutil.copytree(REPO / "content", root / "content")
    else:
        write_corpus(root / "content", articles)
    return root


def start(root: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "broadsheet", "serve", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Serving"):
            return process, line.split(" on ", 1)[1].split()[0]
    raise SystemExit("serve did not start")


async def measure(url: str, post: Path, page: str, edits: int) -> list[tuple[float, float]]:
    from tornado.websocket import websocket_connect

    socket = await websocket_connect(url.replace("http", "ws") + "livereload")
    await socket.write_message(json.dumps({"command": "hello", "protocols": []}))
    await socket.read_message()
    await socket.write_message(json.dumps({"command": "info", "url": url + page}))
    await asyncio.sleep(0.5)
    results = []
    original = post.read_text()
    for n in range(edits):
        marker = f"Benchmark edit number {n} at {time.time()}."
        started = time.perf_counter()
        post.write_text(original.replace("\n\n", f"\n\n{marker}\n\n", 1))
        await socket.read_message()
        reloaded = time.perf_counter() - started
        while marker not in urllib.request.urlopen(url + page).read().decode():
            await asyncio.sleep(0.005)
        served = time.perf_counter() - started
        results.append((reloaded, served))
        await asyncio.sleep(1.0)
    post.write_text(original)
    socket.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--articles", type=int)
    group.add_argument("--seeds", action="store_true")
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        root = make_project(Path(tmp), None if args.seeds else args.articles)
        post = sorted((root / "content").rglob("*.md"))[
            len(list((root / "content").rglob("*.md"))) // 2
        ]
        page = f"{post.parent.name}/{post.stem}/"
        process, url = start(root)
        try:
            results = asyncio.run(measure(url, post, page, args.edits))
        finally:
            process.terminate()
            process.wait(timeout=30)
    posts = "seed archive" if args.seeds else f"{args.articles} articles"
    reload = statistics.median(r for r, _ in results)
    served = statistics.median(s for _, s in results)
    print(
        f"{posts}: edit -> reload signal {reload * 1000:.0f} ms, "
        f"-> new text served {served * 1000:.0f} ms "
        f"(medians of {len(results)} edits; the 100 ms polling interval included)"
    )


if __name__ == "__main__":
    main()
