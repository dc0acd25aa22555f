"""Broadsheet's search index against Pagefind's, on the same pages, through Chromium.

    python -m benchmarks.search --articles 10000 --workdir /dev/shm/bench-search
    python -m benchmarks.search --reuse --workdir /dev/shm/bench-search
    python -m benchmarks.search --scale 100000 --workdir /dev/shm/bench-scale
    python -m benchmarks.search --share 8 --workdir /dev/shm/bench-search
    python -m benchmarks.search --parts 12 --workdir /dev/shm/bench-search
    python -m benchmarks.search --memory 8 --workdir /dev/shm/bench-search

The first builds the realistic corpus (benchmarks/corpus.py), indexes the built pages
with Pagefind (`data-pagefind-body` on the article) and prints, per query of QUERIES:
results, bytes downloaded (raw and gzipped) and time to first result for both, driven
through Chromium (medians of `--runs`, taken in turn); then index size, file count,
indexing time and peak memory for both; then recall over the seed archive (content/)
on SEED_QUERIES, whose expected articles are written beside each query. The second
queries again the sites the first built (after a change to search.js, say: copy it
into project/site/js/ first), in a few minutes. The third writes only Broadsheet's
index for a corpus (from the articles' Markdown, no site) and prints the largest
files a query can download. The fourth measures only what the index adds to a cold
build: that many pairs of cold builds with it and without it, in turn. The fifth
measures each part of that cost (PARTS: the docs files, the merge): that many pairs of
the whole cold build and the same build with the part left out, in turn. The sixth
shows where the largest rendering process's peak goes, with the index and without:
that many pairs of cold builds, in turn, each noting its processes' memory by kind.

Time to first result: from submitting the query to the first result drawn (its title,
link and marked passage; Pagefind: `search()` and the first result's `data()`); "ten"
is until the status line, set once the first ten are drawn.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

QUERIES = [
    "the taliban",
    "china trade",
    "a",
    "election",
    "president of the united states",
    "elections",
    "negotiating",
    "supreme court",
    '"supreme court"',
    "central bank",
    "pakistan's budget",
    "u.s. sanctions",
    "climate migration",
    "world bank",
    "jakarta",
    "the minister said",
    "inflation",
    "zzqx",
]

# Over the seed archive (content/): each query, and the articles that answer it (by
# slug), read from the articles' text (any form of the words, anywhere in the article).
SEED_QUERIES: dict[str, list[str]] = {
    "taliban": [
        "afraid-of-the-gun-taliban-supreme-leader-fears-of-a-coup",
        "three-years-history-of-anti-taliban-movements-and-their-common-failures",
        "does-us-afghanistan-policy-have-a-future",
    ],
    "supreme leader": [
        "afraid-of-the-gun-taliban-supreme-leader-fears-of-a-coup",
    ],
    "sealion": ["chinas-byd-prepares-to-launch-latest-suv-the-sealion-07-in-europe-despite-eu"],
    "sanctions": ["china-pakistan-defense-ties-under-threat-from-new-us-sanctions"],
    "pakistan's": ["china-pakistan-defense-ties-under-threat-from-new-us-sanctions"],
    "nato": ["japans-security-future-asian-nato-proposal-and-sofa-revision"],
    "singles day": [
        "singles-day-promotions-target-overseas-chinese-as-chinas-domestic-demand-slows"
    ],
    "chinas": [
        "chinas-byd-prepares-to-launch-latest-suv-the-sealion-07-in-europe-despite-eu",
        "singles-day-promotions-target-overseas-chinese-as-chinas-domestic-demand-slows",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/dev/shm/bench-search"))
    parser.add_argument("--scale", type=int, help="only write the index for N articles")
    parser.add_argument("--no-recall", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="query the sites the last run built (no builds)"
    )
    parser.add_argument(
        "--share",
        type=int,
        metavar="PAIRS",
        help="only what the index adds to a cold build: PAIRS builds with it and without, in turn",
    )
    parser.add_argument(
        "--parts",
        type=int,
        metavar="PAIRS",
        help="what each part of the index costs a cold build: PAIRS builds whole and without it",
    )
    parser.add_argument(
        "--memory",
        type=int,
        metavar="PAIRS",
        help="where the largest rendering process's peak goes: PAIRS builds with the index"
        " and without, in turn",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    if args.share:
        figures["share"] = share(args.articles, args.workdir, args.share)
    elif args.parts:
        figures["parts"] = parts(args.articles, args.workdir, args.parts)
    elif args.memory:
        figures["memory"] = memory(args.articles, args.workdir, args.memory)
    elif args.scale:
        figures["scale"] = scale(args.scale, args.workdir)
    else:
        figures["corpus"] = compare(args.articles, args.workdir, args.runs, args.reuse)
        if not args.no_recall:
            figures["recall"] = recall(args.workdir, args.reuse)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


# Building both indexes.


def make_project(root: Path, articles: int | None) -> Path:
    """A project with this repository's templates and static files, and `articles`
    articles of the benchmark corpus (None: this repository's own content/)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.broadsheet]\ntitle = "Benchmark"\nbase_url = "http://127.0.0.1:8000/"\n',
        encoding="utf-8",
    )
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, root / name)
    if articles is None:
        shutil.copytree(REPO / "content", root / "content")
        return root
    # The corpus is generated once per size and kept beside the project (it is
    # deterministic: the same count gives the same files).
    kept = root.parent / f"corpus-{articles}"
    if not (kept / ".complete").is_file():
        from benchmarks.corpus import write_corpus

        if kept.exists():
            shutil.rmtree(kept)
        write_corpus(kept, articles)
        (kept / ".complete").write_text("", encoding="utf-8")
    shutil.copytree(kept, root / "content", ignore=shutil.ignore_patterns(".complete"))
    return root


def measured(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `command`; its wall time, peak memory (largest process), and stderr.

    The peak is read by /usr/bin/time, as benchmarks/run.py reads it: Linux keeps the
    largest memory a process had before exec() as its own, and a command started from
    this process (which holds the corpus it generated) would report this process's
    peak (210 MB for a 125 MB build, at 10,000 articles)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        timed = ["/usr/bin/time", "-f", "%M", "-o", str(report), *command]
        started = time.perf_counter()
        process = subprocess.run(
            timed, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr}")
        peak_kb = float(report.read_text(encoding="utf-8").strip().splitlines()[-1])
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "stderr": process.stderr}


def _patched(patch: str) -> str:
    """A script that runs Broadsheet's command line (its arguments are the script's)
    with `patch` made first."""
    run = 'runpy.run_module("broadsheet", run_name="__main__")'
    return f'import runpy, sys\n{patch.strip()}\nsys.argv = ["broadsheet", *sys.argv[1:]]\n{run}\n'


# A cold build with the search index left out (no terms counted, kept or merged): what
# the index costs is the difference between the two builds, on the same machine in turn.
_LEFT_UNINDEXED = """
import contextlib
import broadsheet.publish.assemble as assemble
import broadsheet.publish.render as render
from broadsheet.search.store import TermStore
from broadsheet.search import index, terms
from broadsheet.search.terms import Counted
# (each patched name must be the one the build calls: else the build would index)
assert render.count is terms.count and assemble.write_index is index.write_index
assert assemble.cold_merge is index.cold_merge  # (which scatters as pages render)
render.count = lambda title, html: Counted({}, 0, "")
TermStore.put = lambda self, url_path, counted, shown: None
assemble.write_index = lambda *args, **kwargs: None
assemble.cold_merge = lambda *args, **kwargs: contextlib.nullcontext()
"""
_UNINDEXED = _patched(_LEFT_UNINDEXED)


def build_unindexed(
    project: Path, output: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """A cold build of `project` into `output`, with the search index left out."""
    command = [sys.executable, "-c", _UNINDEXED, "build", "--quiet", "--output", output]
    return measured(command, project, env)


def build_broadsheet(project: Path) -> dict[str, Any]:
    env = dict(os.environ, BROADSHEET_TIMINGS="1")
    arguments = ["build", "--quiet", "--output"]
    for name in ("site", "site-unindexed", ".broadsheet-cache"):
        shutil.rmtree(project / name, ignore_errors=True)
    unindexed = build_unindexed(project, "site-unindexed")
    shutil.rmtree(project / "site-unindexed")
    run = measured([sys.executable, "-m", "broadsheet", *arguments, "site"], project, env)
    stages = {}
    for line in run["stderr"].splitlines():
        found = re.match(r"(\S.*?)\s+([\d.]+) s\s+([\d.]+) s CPU", line)
        if found:
            stages[found[1].strip()] = float(found[2])
    counting = time_counting(project / "site")
    return {
        "build_seconds": run["seconds"],
        "build_peak_mb": run["peak_mb"],
        "unindexed_seconds": unindexed["seconds"],
        "unindexed_peak_mb": unindexed["peak_mb"],
        "index_stage_seconds": stages.get("search index", 0.0),
        "counting_seconds": counting,
        "indexing_seconds": stages.get("search index", 0.0) + counting,
    }


# A cold build of the benchmark's project, as a user runs it.
_WHOLE = [sys.executable, "-m", "broadsheet", "build", "--quiet", "--output", "site"]


def _patched_build(script: str) -> list[str]:
    """_WHOLE, run by a _patched() `script`."""
    return [sys.executable, "-c", script, *_WHOLE[3:]]


def _cold(project: Path, command: list[str], extra: dict[str, str] | None = None) -> dict[str, Any]:
    """A cold build of `project` by `command` (its site and cache removed first), with
    Python's bytecode written and used, as after an installation (see run.py); `extra`
    added to its environment."""
    for name in ("site", ".broadsheet-cache"):
        shutil.rmtree(project / name, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return measured(command, project, {**env, **(extra or {})})


def share(articles: int, workdir: Path, pairs: int) -> dict[str, Any]:
    """What the index adds to a cold build of the corpus: `pairs` cold builds with it
    and without it, in turn (with, without, with...: each pair's ratio holds while the
    machine's speed drifts, which moves one build by more than the index costs). Prints
    and returns the median of the pairs' ratios, its range, the index's share of the
    build (1 - 1 / the median), each kind's median peak (the largest process), and the
    median of the pairs' differences of peak (with - without: the machine's memory
    drifts less than its speed, but a pair's two builds still share its state)."""
    project = make_project(workdir / "project", articles)
    indexed, unindexed = _WHOLE, _patched_build(_UNINDEXED)
    _cold(project, indexed)  # (not counted: the bytecode written, the corpus in the page cache)
    runs = _in_turn(
        pairs,
        functools.partial(_cold, project, indexed),
        functools.partial(_cold, project, unindexed),
    )
    ratios, ratio = _ratios(runs)
    figures = {
        "pairs": pairs,
        "ratios": ratios,
        "ratio": ratio,
        "share": 1 - 1 / ratio,
        **{f"{kind}_seconds": statistics.median(r["seconds"] for r in runs[kind]) for kind in runs},
        **{f"{kind}_peak_mb": statistics.median(r["peak_mb"] for r in runs[kind]) for kind in runs},
        **{f"{kind}_peaks_mb": [r["peak_mb"] for r in runs[kind]] for kind in runs},
    }
    paired = zip(figures["with_peaks_mb"], figures["without_peaks_mb"], strict=True)
    figures["peak_added_mb"] = statistics.median(a - b for a, b in paired)
    print(
        f"A cold build of {articles:,} articles, {pairs} pairs in turn: with the index"
        f" {figures['with_seconds']:.2f} s, without {figures['without_seconds']:.2f} s"
        f" (medians); with / without {ratio:.3f} ({min(ratios):.3f}-{max(ratios):.3f}):"
        f" the index is {figures['share']:.1%} of the build; peak"
        f" {figures['with_peak_mb']:.1f} MB with it, {figures['without_peak_mb']:.1f} without"
        f" (medians; of the pairs' differences {figures['peak_added_mb']:+.1f} MB)"
    )
    return figures


# Each render task's end noted: the process, its peak and its resident memory, and of
# that the anonymous (what it allocated: the heap, Python's objects) and the file-backed
# (the code and data of the libraries it ran, in the page cache, which every process
# that runs them maps). A rendering process only grows (see render._tasks), so its last
# note gives where its peak went.
_NOTED = """
import os
import broadsheet.publish.render as render
_task = render._render_task
def _noted(*args):
    report = _task(*args)
    with open("/proc/self/status", encoding="utf-8") as status:
        lines = (line.partition(":") for line in status)
        kb = {k: v.split()[0] for k, _, v in lines if k in _KINDS}
    with open(os.environ["BENCH_MEMORY_NOTES"], "a", encoding="utf-8") as notes:
        notes.write(" ".join([str(os.getpid())] + [kb[k] for k in _KINDS]) + "\\n")
    return report
_KINDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
render._render_task = _noted
"""
_NOTED_KINDS = ("peak", "resident", "anonymous", "file-backed")


def _noted_build(project: Path, command: list[str]) -> dict[str, float]:
    """A cold build of `project` by a _NOTED `command`: the largest rendering process's
    last note, in MB."""
    with tempfile.TemporaryDirectory() as folder:
        notes = Path(folder) / "notes"
        _cold(project, command, {"BENCH_MEMORY_NOTES": str(notes)})
        last: dict[str, list[float]] = {}
        for line in notes.read_text(encoding="utf-8").splitlines():
            pid, *kb = line.split()
            last[pid] = [int(value) / 1024 for value in kb]
    return dict(zip(_NOTED_KINDS, max(last.values()), strict=True))


def memory(articles: int, workdir: Path, pairs: int) -> dict[str, Any]:
    """Where the largest rendering process's peak goes, with the index and without:
    `pairs` cold builds of each, in turn, noted (see _NOTED). Prints and returns, for
    each of the peak, its anonymous and its file-backed memory, each kind's median and
    the median of the pairs' differences (with - without)."""
    project = make_project(workdir / "project", articles)
    indexed = _patched_build(_patched(_NOTED))
    unindexed = _patched_build(_patched(_LEFT_UNINDEXED + _NOTED))
    _cold(project, _WHOLE)  # (not counted: the bytecode written, the corpus in the page cache)
    runs = _in_turn(
        pairs,
        functools.partial(_noted_build, project, indexed),
        functools.partial(_noted_build, project, unindexed),
    )
    figures: dict[str, Any] = {"pairs": pairs, "runs": runs}
    for kind in ("peak", "anonymous", "file-backed"):
        paired = zip(runs["with"], runs["without"], strict=True)
        figures[kind] = {
            "with_mb": statistics.median(run[kind] for run in runs["with"]),
            "without_mb": statistics.median(run[kind] for run in runs["without"]),
            "added_mb": statistics.median(a[kind] - b[kind] for a, b in paired),
        }
    # (a peak past the process's size at its last note: memory let go before it ended)
    figures["after_peak_mb"] = max(r["peak"] - r["resident"] for kind in runs for r in runs[kind])
    print(
        f"The largest rendering process of a cold build of {articles:,} articles, {pairs}"
        " pairs in turn (medians with the index, without, and of the pairs' differences):"
    )
    for kind in ("peak", "anonymous", "file-backed"):
        got = figures[kind]
        print(
            f"  {kind:12} {got['with_mb']:6.1f} MB {got['without_mb']:6.1f} MB"
            f" {got['added_mb']:+5.2f} MB"
        )
    print(f"  (its peak past its size at its last task: {figures['after_peak_mb']:.2f} MB at most)")
    return figures


def _in_turn(
    pairs: int, first: Callable[[], dict[str, Any]], second: Callable[[], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """`pairs` runs of `first` ("with") and `second` ("without"), in turn."""
    runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    for _ in range(pairs):
        runs["with"].append(first())
        runs["without"].append(second())
    return runs


def _ratios(runs: dict[str, list[dict[str, Any]]]) -> tuple[list[float], float]:
    """Each pair's ratio of seconds (with / without), and their median."""
    paired = zip(runs["with"], runs["without"], strict=True)
    ratios = [a["seconds"] / b["seconds"] for a, b in paired]
    return ratios, statistics.median(ratios)


# A cold build with one part of the index left out: what the part costs is the
# difference from the whole build, on the same machine in turn. (Each patched name must
# be the one the build calls: else the part would still be done.)
_LEFT_OUT = {
    "docs files": _patched("""
import broadsheet.search.index as index
import broadsheet.search.store as store
assert index.write_docs is store.write_docs  # (what a cold build's slices write them by)
index.write_docs = lambda *args, **kwargs: None
"""),
    "merge": _patched("""
import broadsheet.publish.assemble as assemble
from broadsheet.search import index
assert assemble.write_index is index.write_index  # (the words counted, nothing merged)
assemble.write_index = lambda *args, **kwargs: None
"""),
}


def parts(articles: int, workdir: Path, pairs: int) -> dict[str, Any]:
    """What each part of the index (_LEFT_OUT) costs a cold build of the corpus: `pairs`
    whole cold builds and as many with the part left out, in turn (as share() pairs
    them). Prints and returns, for each, the median of the pairs' ratios (whole / left
    out), its range and the part's share of the whole build (1 - 1 / the median)."""
    project = make_project(workdir / "project", articles)
    _cold(project, _WHOLE)  # (not counted: the bytecode written, the corpus in the page cache)
    figures: dict[str, Any] = {"pairs": pairs}
    for part, script in _LEFT_OUT.items():
        left_out = _patched_build(script)
        runs = _in_turn(
            pairs,
            functools.partial(_cold, project, _WHOLE),
            functools.partial(_cold, project, left_out),
        )
        ratios, ratio = _ratios(runs)
        figures[part] = {"ratios": ratios, "ratio": ratio, "share": 1 - 1 / ratio}
        print(
            f"A cold build of {articles:,} articles, {pairs} pairs in turn: whole / without"
            f" the index's {part} {ratio:.3f} ({min(ratios):.3f}-{max(ratios):.3f}):"
            f" {part}, {1 - 1 / ratio:.1%} of the build"
        )
    return figures


def time_counting(site: Path) -> float:
    """CPU time of counting every article's words (done while pages render)."""
    from broadsheet.search.terms import count

    bodies = []
    for page in site.glob("*/*/index.html"):
        html = page.read_text(encoding="utf-8")
        found = re.search(r"<article.*?</article>", html, re.S)
        if found:
            bodies.append(found[0])
    started = time.process_time()
    for body in bodies:
        count("", body)
    return time.process_time() - started


def pagefind_site(site: Path, target: Path) -> Path:
    """A copy of `site` with data-pagefind-body on each article, for Pagefind."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site, target, ignore=shutil.ignore_patterns("search"))
    for page in target.glob("*/*/index.html"):
        html = page.read_text(encoding="utf-8")
        marked = re.sub(r"<article\b", "<article data-pagefind-body", html, count=1)
        if marked != html:
            page.write_text(marked, encoding="utf-8")
    (target / "pf-bench.html").write_text(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>b</title></html>\n',
        encoding="utf-8",
    )
    return target


def build_pagefind(site: Path) -> dict[str, Any]:
    import pagefind_bin  # type: ignore[import-untyped]

    binary = Path(pagefind_bin.__file__).parent / "pagefind"
    run = measured([str(binary), "--site", str(site), "--quiet"], site)
    return {"indexing_seconds": run["seconds"], "indexing_peak_mb": run["peak_mb"]}


def folder_size(folder: Path) -> dict[str, Any]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {"files": len(files), "mb": sum(p.stat().st_size for p in files) / 1e6}


# Serving and measuring in Chromium.


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Served:
    def __init__(self, folder: Path):
        handler = functools.partial(_Quiet, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.folder = folder
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@functools.cache
def sizes(path: Path) -> tuple[int, int]:
    """A file's bytes, raw and gzipped (as a server would send it: never larger)."""
    data = path.read_bytes()
    return len(data), min(len(data), len(gzip.compress(data, 6)))


def downloaded(served: Served, urls: list[str], wanted: re.Pattern[str]) -> dict[str, Any]:
    raw = gz = 0
    largest = 0
    files = 0
    for url in urls:
        path = urlsplit(url).path
        if not wanted.search(path):
            continue
        target = served.folder / path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if target.is_file():
            r, g = sizes(target)
            raw, gz, largest, files = raw + r, gz + g, max(largest, g), files + 1
    return {
        "raw_kb": raw / 1000,
        "gz_kb": gz / 1000,
        "largest_gz_kb": largest / 1000,
        "files": files,
    }


BROADSHEET_FILES = re.compile(r"^/(search/(?!index\.html).+|js/(search|porter2)\.js)$")
PAGEFIND_FILES = re.compile(r"^/pagefind/")


def query_broadsheet(browser: Any, served: Served, query: str) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    urls: list[str] = []
    page.on("requestfinished", lambda r: urls.append(r.url))
    page.goto(served.base + "search/")
    page.wait_for_function("() => document.querySelectorAll('#search-year option').length > 1")
    # The first result: the first one drawn (its title, link and passage), or the status
    # line when there is none. All: the status line, set once the first ten are drawn.
    elapsed = page.evaluate(
        """(query) => new Promise((resolve) => {
            const input = document.getElementById('search-terms');
            const status = document.getElementById('search-status');
            const list = document.getElementById('search-results');
            const started = performance.now();
            let first = null;
            const drawn = new MutationObserver(() => {
              if (first === null && list.children.length) { first = performance.now() - started; }
            });
            drawn.observe(list, {childList: true});
            const seen = new MutationObserver(() => {
              if (/match/.test(status.textContent)) {
                seen.disconnect();
                drawn.disconnect();
                const all = performance.now() - started;
                resolve({first: first === null ? all : first, all: all});
              }
            });
            seen.observe(status, {childList: true, characterData: true, subtree: true});
            input.value = query;
            document.querySelector('#search form').requestSubmit();
        })""",
        query,
    )
    status = page.inner_text("#search-status")
    # The filters' counts come after the status (their facets files): counted too.
    page.wait_for_load_state("networkidle")
    # "12 articles match ...", or "Up to 12 ..." for a phrase not yet checked on every result
    numbers = re.findall(r"\d[\d,]*", status)
    results = 0 if status.startswith("No") else int(numbers[0].replace(",", ""))
    context.close()
    return {
        "ms": elapsed["first"],
        "ms_all": elapsed["all"],
        "results": results,
        **downloaded(served, urls, BROADSHEET_FILES),
    }


def query_pagefind(browser: Any, served: Served, query: str) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    urls: list[str] = []
    page.on("requestfinished", lambda r: urls.append(r.url))
    page.goto(served.base + "pf-bench.html")
    found = page.evaluate(
        """async (query) => {
            const pagefind = await import('/pagefind/pagefind.js');
            await pagefind.init();
            const started = performance.now();
            const search = await pagefind.search(query);
            const shown = search.results.slice(0, 10);
            if (shown.length) { await shown[0].data(); }
            const first = performance.now() - started;
            await Promise.all(shown.map((r) => r.data()));
            return {ms: first, results: search.results.length};
        }""",
        query,
    )
    page.wait_for_timeout(50)
    context.close()
    return {**found, **downloaded(served, urls, PAGEFIND_FILES)}


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--disable-gpu", "--disable-dev-shm-usage"]
    )


def compare(articles: int, workdir: Path, runs: int, reuse: bool = False) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    print(f"Corpus: {articles:,} articles (benchmarks/corpus.py), in {workdir}", flush=True)
    built = workdir / f"built-{articles}.json"
    site, pf_site = workdir / "project" / "site", workdir / "pagefind-site"
    if reuse and built.is_file():
        ours, theirs = json.loads(built.read_text(encoding="utf-8"))
    else:
        project = make_project(workdir / "project", articles)
        ours = build_broadsheet(project)
        pagefind_site(site, pf_site)
        theirs = build_pagefind(pf_site)
        ours.update(folder_size(site / "search"))
        theirs.update(folder_size(pf_site / "pagefind"))
        built.write_text(json.dumps([ours, theirs]), encoding="utf-8")
    share = ours["indexing_seconds"] / ours["build_seconds"]
    cost = ours["build_seconds"] - ours["unindexed_seconds"]
    print(
        f"Broadsheet: cold build {ours['build_seconds']:.1f} s,"
        f" peak {ours['build_peak_mb']:.0f} MB; without the index"
        f" {ours['unindexed_seconds']:.1f} s, peak {ours['unindexed_peak_mb']:.0f} MB: the index"
        f" adds {cost:.2f} s ({cost / ours['build_seconds']:.1%} of the build);"
        f" indexing work {ours['indexing_seconds']:.2f} s ({share:.1%}: counting"
        f" {ours['counting_seconds']:.2f} s of CPU + merge {ours['index_stage_seconds']:.2f} s);"
        f" index {ours['mb']:.1f} MB in {ours['files']:,} files"
    )
    print(
        f"Pagefind:   indexing {theirs['indexing_seconds']:.1f} s, peak"
        f" {theirs['indexing_peak_mb']:.0f} MB; index {theirs['mb']:.1f} MB in"
        f" {theirs['files']:,} files",
        flush=True,
    )
    rows = []
    mine, other = Served(site), Served(pf_site)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for query in QUERIES:
                a: list[dict[str, Any]] = []
                b: list[dict[str, Any]] = []
                for _ in range(runs):  # in turn: A B A B ...
                    a.append(query_broadsheet(browser, mine, query))
                    b.append(query_pagefind(browser, other, query))
                row = {"query": query, "broadsheet": _median(a), "pagefind": _median(b)}
                rows.append(row)
                _print_row(row)
            browser.close()
    finally:
        mine.close()
        other.close()
    return {"articles": articles, "broadsheet": ours, "pagefind": theirs, "queries": rows}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["ms"] for r in runs]
    median = {
        **runs[0],
        "ms": statistics.median(times),
        "ms_min": min(times),
        "ms_max": max(times),
    }
    if "ms_all" in runs[0]:
        median["ms_all"] = statistics.median(r["ms_all"] for r in runs)
    return median


def _print_row(row: dict[str, Any]) -> None:
    a, b = row["broadsheet"], row["pagefind"]
    print(
        f"{row['query']!r:34} Broadsheet {a['results']:6d} results {a['raw_kb']:8.1f} KB raw"
        f" {a['gz_kb']:7.1f} KB gz (largest {a['largest_gz_kb']:6.1f}) {a['ms']:6.0f} ms"
        f" [{a['ms_min']:.0f}-{a['ms_max']:.0f}] (ten: {a['ms_all']:.0f})"
        f" | Pagefind {b['results']:6d} results"
        f" {b['raw_kb']:8.1f} KB raw {b['gz_kb']:7.1f} KB gz {b['ms']:6.0f} ms"
        f" [{b['ms_min']:.0f}-{b['ms_max']:.0f}]",
        flush=True,
    )


# Recall on the seed archive.


def recall(workdir: Path, reuse: bool = False) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    site, pf_site = workdir / "seed" / "site", workdir / "seed-pagefind"
    if not (reuse and (site / "search/meta.json").is_file() and (pf_site / "pagefind").is_dir()):
        project = make_project(workdir / "seed", None)
        build_broadsheet(project)
        pagefind_site(site, pf_site)
        build_pagefind(pf_site)
    mine, other = Served(site), Served(pf_site)
    found_ours = found_theirs = expected_total = 0
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for query, expected in SEED_QUERIES.items():
                ours = _slugs_broadsheet(browser, mine, query)
                theirs = _slugs_pagefind(browser, other, query)
                hit_a = len(set(expected) & set(ours))
                hit_b = len(set(expected) & set(theirs))
                found_ours, found_theirs = found_ours + hit_a, found_theirs + hit_b
                expected_total += len(expected)
                rows.append(
                    {
                        "query": query,
                        "expected": len(expected),
                        "broadsheet": hit_a,
                        "broadsheet_results": len(ours),
                        "pagefind": hit_b,
                        "pagefind_results": len(theirs),
                    }
                )
                print(
                    f"recall {query!r:18} expected {len(expected)}: Broadsheet {hit_a}"
                    f" (of {len(ours)} results), Pagefind {hit_b} (of {len(theirs)} results)",
                    flush=True,
                )
            browser.close()
    finally:
        mine.close()
        other.close()
    print(
        f"recall: Broadsheet {found_ours}/{expected_total},"
        f" Pagefind {found_theirs}/{expected_total}"
    )
    return {
        "queries": rows,
        "broadsheet": found_ours,
        "pagefind": found_theirs,
        "expected": expected_total,
    }


def _slug(url: str) -> str:
    return urlsplit(url).path.strip("/").split("/")[-1]


def _slugs_broadsheet(browser: Any, served: Served, query: str) -> list[str]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(served.base + "search/?q=" + quote(query + " "))
    page.wait_for_function(
        "() => /match/.test(document.querySelector('#search-status').textContent)"
    )
    while page.is_visible("#search-more"):
        page.click("#search-more")
        page.wait_for_timeout(100)
    links = page.locator(".search-result-link")
    slugs = [_slug(links.nth(i).get_attribute("href")) for i in range(links.count())]
    context.close()
    return slugs


def _slugs_pagefind(browser: Any, served: Served, query: str) -> list[str]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(served.base + "pf-bench.html")
    urls = page.evaluate(
        """async (query) => {
            const pagefind = await import('/pagefind/pagefind.js');
            const search = await pagefind.search(query);
            const data = await Promise.all(search.results.map((r) => r.data()));
            return data.map((d) => d.url);
        }""",
        query,
    )
    context.close()
    return [_slug(u) for u in urls]


# The index alone, at scale.


def scale(articles: int, workdir: Path) -> dict[str, Any]:
    """Write Broadsheet's index for `articles` articles (counted from their Markdown, in
    as many processes as there are cores, as a build counts them while it renders) and
    report its largest files: what any query could download at most, file by file."""
    from broadsheet.publish.stage import Stage
    from broadsheet.search.index import TermStore, id_order, write_index
    from broadsheet.workers import worker_pool

    global _scale_job
    started = time.perf_counter()
    from benchmarks.corpus import generate

    corpus = generate(articles)
    print(f"generated {articles:,} articles in {time.perf_counter() - started:.0f} s", flush=True)
    docs = [_doc_of(article) for article in corpus]  # (their ids, before they are counted)
    out = workdir / "site"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    stage = Stage(out, private=True)
    store = TermStore(workdir / "state")
    store.reset()
    store.begin(stage, [doc.url_path for doc in id_order(docs)])
    jobs = os.cpu_count() or 1
    started, cpu = time.perf_counter(), _cpu()
    _scale_job = (corpus, docs, store)
    try:
        with worker_pool(jobs, "counting") as pool:
            step = 1_000
            parts = pool.map(
                _count_some, [range(n, min(n + step, articles)) for n in range(0, articles, step)]
            )
    finally:
        _scale_job = None
    for lengths in parts:  # (the docs files each process wrote)
        store.note(lengths)
    del corpus
    counted, counted_cpu = time.perf_counter() - started, _cpu() - cpu
    started, cpu = time.perf_counter(), _cpu()
    write_index(stage, id_order(docs), [], store, None, jobs=jobs)
    merged, merged_cpu = time.perf_counter() - started, _cpu() - cpu
    largest: dict[str, tuple[int, int, str]] = {}
    for path in (out / "search").rglob("*.json"):
        kind = path.parent.name if path.parent.name != "search" else "meta"
        raw, gz = sizes(path)
        if gz > largest.get(kind, (0, 0, ""))[1]:
            largest[kind] = (raw, gz, path.name)
    report = {
        kind: {"raw_kb": raw / 1000, "gz_kb": gz / 1000, "file": name}
        for kind, (raw, gz, name) in largest.items()
    }
    print(
        f"counted in {counted:.0f} s ({counted_cpu:.0f} s CPU), merged in {merged:.0f} s"
        f" ({merged_cpu:.0f} s CPU), {jobs} processes"
    )
    for kind, entry in sorted(report.items()):
        print(
            f"largest {kind:7} file: {entry['raw_kb']:8.1f} KB raw {entry['gz_kb']:7.1f} KB"
            f" gzipped ({entry['file']})"
        )
    return {
        "articles": articles,
        "largest": report,
        "count_seconds": counted,
        "count_cpu_seconds": counted_cpu,
        "merge_seconds": merged,
        "merge_cpu_seconds": merged_cpu,
    }


_scale_job: tuple[list[Any], list[Any], Any] | None = None
_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # a Markdown link's URL: not text a reader sees


def _doc_of(article: Any) -> Any:
    """An article of the corpus as a search result shows it (its Doc), from its front
    matter."""
    from datetime import UTC, datetime

    from broadsheet.publish.render import entry_order
    from broadsheet.search.index import Doc

    head = article.text.split("\n---\n", 1)[0]
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    when = datetime.fromisoformat(fields["date"]) if "date" in fields else None
    tags = tuple(t.strip() for t in fields.get("tags", "[]").strip("[]").split(",") if t.strip())
    return Doc(
        f"{article.section}/{article.slug}/",
        fields.get("title", ""),
        article.section,
        fields.get("date", ""),
        when.year if when else None,
        fields.get("author", ""),
        tags,
        entry_order(when.replace(tzinfo=when.tzinfo or UTC) if when else None),
    )


def _count_some(numbers: range) -> dict[str, int]:
    """Count some articles of the corpus and write their docs files; their lengths."""
    from broadsheet.search.terms import count

    assert _scale_job is not None
    corpus, docs, store = _scale_job
    for number in numbers:
        body = corpus[number].text.split("\n---\n", 1)[1]
        doc = docs[number]
        store.put(doc.url_path, count(doc.title, _LINK_TARGET.sub("]", body)), doc.shown)
    return dict(store.lengths)


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


if __name__ == "__main__":
    main()
