"""How long after an author saves a post does the browser show it? (`broadsheet serve`)

    python benchmarks/serve_edit.py --articles 2000      # a generated archive
    python benchmarks/serve_edit.py --seeds               # the seed archive
    python benchmarks/serve_edit.py --articles 2000 --python OTHER/.venv/bin/python

Starts a real `broadsheet serve` on a free port (with `--python`, another checkout's
Python, to compare two versions on one corpus), connects a live-reload client as a
browser does, then edits one article several times: its body, then its headline (which
every listing that shows it must follow). For each edit it measures the time from the
file being written to (a) the reload message reaching the client and (b) the new text
being served on the article's page and, for a headline, on its section's first page,
and prints the medians with the fastest and slowest.
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

GIVE_UP = 20.0  # seconds to wait for one edit to show before calling it never shown


def make_project(root: Path, articles: int | None) -> Path:
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    if articles is None:
        shutil.copytree(REPO / "content", root / "content")
    else:
        write_corpus(root / "content", articles)
    return root


def newest(content: Path) -> Path:
    """The newest dated post (on its section's first page, where a headline edit shows),
    or with none dated, the first."""
    posts = sorted(content.rglob("*.md"))
    dated = [("", posts[0])]
    for path in posts:
        for line in path.read_text().splitlines()[1:]:
            if line == "---":
                break
            if line.startswith("date:"):
                dated.append((line, path))
    return max(dated)[1]


def start(root: Path, python: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [python, "-m", "broadsheet", "serve", "--port", "0"],
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


async def shown(url: str, marker: str, started: float) -> float:
    """Seconds from `started` until `url` serves `marker` (inf if it never does)."""
    while marker not in urllib.request.urlopen(url).read().decode():
        if time.perf_counter() - started > GIVE_UP:
            return float("inf")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def measure(url: str, post: Path, edits: int) -> dict[str, list[float]]:
    from tornado.websocket import websocket_connect

    page = f"{url}{post.parent.name}/{post.stem}/"
    socket = await websocket_connect(url.replace("http", "ws") + "livereload")
    await socket.write_message(json.dumps({"command": "hello", "protocols": []}))
    await socket.read_message()
    await socket.write_message(json.dumps({"command": "info", "url": page}))
    await asyncio.sleep(0.5)
    results: dict[str, list[float]] = {"reload": [], "body": [], "headline": [], "listing": []}
    original = post.read_text()
    for n in range(edits):
        marker = f"Benchmark edit number {n} at {time.time()}."
        headline = n % 2 == 1
        if headline:
            text = original.replace("title: ", f"title: {marker} ", 1)
        else:
            text = original.replace("\n\n", f"\n\n{marker}\n\n", 1)
        started = time.perf_counter()
        post.write_text(text)
        try:
            await asyncio.wait_for(socket.read_message(), GIVE_UP)
            results["reload"].append(time.perf_counter() - started)
        except TimeoutError:
            results["reload"].append(float("inf"))
        results["headline" if headline else "body"].append(await shown(page, marker, started))
        if headline:
            section = f"{url}{post.parent.name}/"
            results["listing"].append(await shown(section, marker, started))
        await asyncio.sleep(1.0)
    post.write_text(original)
    socket.close()
    return results


def summary(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    ms = sorted(s * 1000 for s in seconds)
    never = sum(m == float("inf") for m in ms)
    shown = [m for m in ms if m != float("inf")]
    text = f"{statistics.median(ms):.0f} ms ({shown[0]:.0f}-{shown[-1]:.0f})" if shown else ""
    return text + (f", never shown {never} of {len(ms)}" if never else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--articles", type=int)
    group.add_argument("--seeds", action="store_true")
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--python", default=sys.executable, help="the Python that runs serve")
    parser.add_argument("--json", type=Path, help="also write the times (seconds) here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        root = make_project(Path(tmp), None if args.seeds else args.articles)
        post = newest(root / "content")
        process, url = start(root, args.python)
        try:
            results = asyncio.run(measure(url, post, args.edits))
        finally:
            process.terminate()
            process.wait(timeout=30)
    posts_text = "seed archive" if args.seeds else f"{args.articles} articles"
    print(
        f"{posts_text}, {args.edits} edits: edit -> reload signal {summary(results['reload'])}; "
        f"-> new body served {summary(results['body'])}; "
        f"-> new headline on its page {summary(results['headline'])}, "
        f"on its section's page {summary(results['listing'])} "
        "(median, fastest-slowest)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
