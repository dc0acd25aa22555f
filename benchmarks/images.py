"""Broadsheet's image work against Hugo's, side by side in one run.

    python benchmarks/images.py --photos 200 --runs 3 [--root /dev/shm/broadsheet-images]

Makes N photo-like JPEGs (4000 x 3000 by default: gradients, blobs and grain from a
seeded generator, so JPEG compresses them as it does photographs; each carries EXIF
with a GPS position), then times, in turn (Broadsheet, Hugo, Broadsheet, ...), each
tool turning every photo into the same files: widths 480, 800, 1200 and 1600 in AVIF,
WebP and JPEG at quality 75, and the 16:9, 4:3 and 1:1 crops 1,200 px wide in JPEG
(Hugo through `.Process` and `.Crop` in its templates). Four cases:

- cold: no cache, no site;
- nothing changed: the same again over the last site and cache;
- one text edit: one post's text changed, its photo not;
- fresh clone: the project copied (new times and inodes, as `git clone` makes them),
  the cache restored (Broadsheet's .broadsheet-cache/images, Hugo's resources/_gen),
  no site.

For each: wall seconds (median of the runs, and the spread), peak memory of the whole
process tree (its resident memory summed over its processes, sampled every 20 ms),
bytes published, and how many photos were encoded (Broadsheet counts them itself;
for Hugo, the new files in resources/_gen/images). Broadsheet's side is its image stage
(broadsheet.images.publish_images, what the build calls before rendering pages) run as
its own process; `--text` also times a text-only rebuild of an article corpus of the
same size, to say what share of a rebuild the image stage adds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import ENVIRONMENT, hugo_binary  # noqa: E402

WIDTHS = (480, 800, 1200, 1600)
FORMATS = ("avif", "webp", "jpg")
CROPS = ((1200, 675), (1200, 900), (1200, 1200))
QUALITY = 75


def make_photo(seed: int, width: int, height: int) -> bytes:
    """A photo-like JPEG, the same for the same seed: a coloured gradient, soft blobs
    and grain (random values scaled up by two amounts), with EXIF and a GPS position."""
    import io

    from PIL import Image

    rng = random.Random(seed)
    small, fine = (width // 40, height // 40), (width // 2, height // 2)
    blobs = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3))
    blobs = blobs.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.frombytes("RGB", fine, rng.randbytes(fine[0] * fine[1] * 3))
    grain = grain.resize((width, height), Image.Resampling.BILINEAR)
    top = tuple(rng.randrange(256) for _ in range(3))
    gradient = Image.linear_gradient("L").resize((width, height))
    tint = Image.merge("RGB", [gradient.point(lambda v, c=c: (v * c) // 255) for c in top])
    image = Image.blend(Image.blend(tint, blobs, 0.45), grain, 0.12)
    exif = Image.Exif()
    exif[0x010F] = "Benchmark Camera"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, float(seed % 60)), 3: "W", 4: (0.0, 7.0, 39.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def make_corpus(folder: Path, photos: int, width: int, height: int) -> list[Path]:
    """The photos, made once per size and count (they take a while)."""
    done = folder / f".done-{photos}-{width}x{height}"
    paths = [folder / f"photo-{n:04d}.jpg" for n in range(photos)]
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for number, path in enumerate(paths):
            path.write_bytes(make_photo(number, width, height))
        done.touch()
    return paths


def broadsheet_project(root: Path, photos: list[Path]) -> None:
    """Posts as page bundles, each with its photo."""
    for number, photo in enumerate(photos):
        bundle = root / "content" / "news" / f"post-{number:04d}"
        bundle.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, bundle / "photo.jpg")
        (bundle / "index.md").write_text(f"---\ntitle: Post {number}\n---\nText {number}.\n")
    (root / "pyproject.toml").write_text(
        "[tool.broadsheet]\nbase_url = 'https://example.test/'\n[tool.broadsheet.images]\n"
        f"widths = {list(WIDTHS)}\nformats = ['avif', 'webp']\nquality = {QUALITY}\n"
    )


HUGO_SINGLE = """\
{{ with .Resources.GetMatch "photo.jpg" }}{{ $photo := . }}
{{ range $format := slice "avif" "webp" "jpg" }}{{ range $width := slice 480 800 1200 1600 }}
{{ if le $width $photo.Width }}\
{{ with $photo.Process (printf "resize %dx %s q75" $width $format) }}\
<img src="{{ .RelPermalink }}" width="{{ .Width }}">{{ end }}{{ end }}{{ end }}{{ end }}
{{ range $size := slice "1200x675" "1200x900" "1200x1200" }}\
{{ with $photo.Crop (printf "%s jpg q75 Center" $size) }}<img src="{{ .RelPermalink }}">\
{{ end }}{{ end }}
{{ end }}{{ .Content }}
"""


def hugo_project(root: Path, photos: list[Path]) -> None:
    for number, photo in enumerate(photos):
        bundle = root / "content" / "news" / f"post-{number:04d}"
        bundle.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, bundle / "photo.jpg")
        (bundle / "index.md").write_text(f"---\ntitle: Post {number}\n---\nText {number}.\n")
    layouts = root / "layouts"
    layouts.mkdir(exist_ok=True)
    (layouts / "single.html").write_text(HUGO_SINGLE)
    (layouts / "list.html").write_text("{{ range .Pages }}{{ .Title }}{{ end }}\n")
    (layouts / "home.html").write_text("{{ range .Site.RegularPages }}{{ .Title }}{{ end }}\n")
    (root / "hugo.toml").write_text(
        'baseURL = "https://example.test/"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n'
        "[imaging]\nquality = 75\n"
        # Hugo publishes a bundle's originals too by default; Broadsheet never does.
        "[[cascade]]\n[cascade.build]\npublishResources = false\n"
    )


def publish(project: Path, output: Path) -> None:
    """Broadsheet's image stage over every photo of `project`, as the build runs it;
    prints its own seconds (Pillow's import included), without Python's start-up."""
    started = time.perf_counter()
    from broadsheet.config import load_config
    from broadsheet.images import ImageRequest, publish_images
    from broadsheet.publish.stage import Stage

    config = load_config(project)
    photos = sorted((project / "content").rglob("photo.jpg"))
    requests = [ImageRequest(photo, crops=True) for photo in photos]
    stage = Stage(output.with_name(output.name + ".new"), base=output if output.exists() else None)
    cache = project / ".broadsheet-cache" / "images"
    outcome = publish_images(config, requests, stage, cache)
    output.mkdir(exist_ok=True)
    for relative in stage.removed:
        (output / relative).unlink()
    for relative in stage.staged():
        (output / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage.root / relative, output / relative)
    shutil.rmtree(stage.root, ignore_errors=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"photos_encoded": outcome.encoded, "stage_s": seconds}))


def stage_in_process(project: Path, calls: int = 9) -> None:
    """The image stage's own time when nothing is left to encode, in a process that
    has already imported Broadsheet and read the settings, as a build has: `calls`
    calls over the last site of `project` (made by --publish), medians printed."""
    from broadsheet.config import load_config
    from broadsheet.images import ImageRequest, publish_images
    from broadsheet.publish.stage import Stage

    config = load_config(project)
    photos = sorted((project / "content").rglob("photo.jpg"))
    requests = [ImageRequest(photo, crops=True) for photo in photos]
    cache = project / ".broadsheet-cache" / "images"
    wall, cpu = [], []
    for _ in range(calls):
        started, used = time.perf_counter(), time.process_time()
        stage = Stage(project / "site.new", base=project / "site")
        encoded = publish_images(config, requests, stage, cache).encoded
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        shutil.rmtree(stage.root, ignore_errors=True)
        assert encoded == 0, "photos were encoded: run --publish first"
    print(json.dumps({
        "wall_ms": [round(s * 1000, 1) for s in wall],
        "median_ms": round(statistics.median(wall) * 1000, 1),
        "cpu_median_ms": round(statistics.median(cpu) * 1000, 1),
    }))  # fmt: skip


def tree_rss(pid: int) -> int:
    """The resident memory (bytes) of `pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak memory of the process tree (MB), and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{err[-3000:]}")
    return elapsed, peak / 2**20, out


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def folder_bytes(folder: Path, suffixes: tuple[str, ...]) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())


def fresh_copy(source: Path, target: Path, keep: str) -> None:
    """`source` copied as a clone makes it (new times and inodes), without its site;
    its cache folder `keep` restored (copied with its times, as CI caches do)."""
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("site", "public", ".broadsheet-cache", "resources", "*.new")
    shutil.copytree(source, target, copy_function=shutil.copyfile, ignore=ignore)
    shutil.copytree(source / keep, target / keep)


def run_cases(
    root: Path, photos: list[Path], runs: int, settle: float = 3.5
) -> dict[str, dict[str, list[float]]]:
    hugo = hugo_binary()
    results: dict[str, dict[str, list[float]]] = {}

    def record(tool: str, case: str, seconds: float, peak: float, size: int, made: int) -> None:
        row = results.setdefault(f"{tool}|{case}", {"s": [], "mb": [], "bytes": [], "made": []})
        row["s"].append(seconds)
        row["mb"].append(peak)
        row["bytes"].append(size)
        row["made"].append(made)
        print(f"{tool:10} {case:16} {seconds:8.2f} s {peak:7.0f} MB {size / 1e6:8.1f} MB out, "
              f"{made} files encoded", flush=True)  # fmt: skip

    def broadsheet(project: Path, case: str) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--publish", str(project)]
        cache = project / ".broadsheet-cache" / "images" / "files"
        before = count_files(cache)
        seconds, peak, out = timed(command, project)
        size = folder_bytes(project / "site", (".avif", ".webp", ".jpg"))
        record("broadsheet", case, seconds, peak, size, count_files(cache) - before)
        stage = results.setdefault(f"broadsheet stage|{case}", {"s": [], "photos_encoded": []})
        told = json.loads(out)
        stage["s"].append(told["stage_s"])
        stage["photos_encoded"].append(told["photos_encoded"])

    def hugo_run(project: Path, case: str) -> None:
        cache = project / "resources" / "_gen" / "images"
        before = count_files(cache)
        seconds, peak, _ = timed([hugo, "--quiet"], project)
        size = folder_bytes(project / "public", (".avif", ".webp", ".jpg"))
        record("hugo", case, seconds, peak, size, count_files(cache) - before)

    for run in range(runs):
        for tool, make, go, keep in (
            ("broadsheet", broadsheet_project, broadsheet, ".broadsheet-cache"),
            ("hugo", hugo_project, hugo_run, "resources"),
        ):
            project = root / f"{tool}-{run}"
            for leftover in (project, project.with_name(project.name + "-clone")):
                if leftover.exists():
                    shutil.rmtree(leftover)
            make(project, photos)
            time.sleep(settle)  # photos are seldom added in the seconds before a build
            go(project, "cold")
            go(project, "nothing changed")
            post = project / "content/news/post-0000/index.md"
            post.write_text(post.read_text() + "\nOne more line.\n")
            go(project, "one text edit")
            clone = project.with_name(project.name + "-clone")
            fresh_copy(project, clone, keep)
            go(clone, "fresh clone")
            shutil.rmtree(project)
            shutil.rmtree(clone)
    return results


def text_rebuild(root: Path, articles: int, runs: int) -> list[float]:
    """Seconds of Broadsheet's full rebuild after one text edit, for `articles` articles."""
    from benchmarks.corpus import write_corpus

    project = root / "text"
    if project.exists():
        shutil.rmtree(project)
    (project / "content").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", project / "templates")
    shutil.copytree(ROOT / "static", project / "static")
    (project / "pyproject.toml").write_text(
        "[tool.broadsheet]\nbase_url = 'https://example.test/'\n"
    )
    write_corpus(project / "content", articles)
    command = [sys.executable, "-m", "broadsheet", "build"]
    timed(command, project)
    seconds = []
    for run in range(runs):
        first = sorted((project / "content").rglob("*.md"))[0]
        first.write_text(first.read_text() + f"\nEdit {run}.\n")
        seconds.append(timed(command, project)[0])
    return seconds


def summarise(row: dict[str, list[float]]) -> dict[str, object]:
    found: dict[str, object] = {
        "median_s": statistics.median(row["s"]),
        "min_s": min(row["s"]),
        "max_s": max(row["s"]),
    }
    for key, values in row.items():
        if key == "mb":
            found["peak_mb"] = statistics.median(values)
        elif key == "bytes":
            found["bytes"] = statistics.median(values)
        elif key != "s":
            found[key] = values
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/dev/shm/broadsheet-images"))
    parser.add_argument("--text", action="store_true", help="also time a text-only rebuild")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--settle", type=float, default=3.5, help=argparse.SUPPRESS)
    parser.add_argument("--publish", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--stage-only", type=Path, metavar="PROJECT",
        help="time the image stage in-process over PROJECT's last site (after --publish)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.publish:
        publish(args.publish, args.publish / "site")
        return
    if args.stage_only:
        stage_in_process(args.stage_only)
        return
    width, height = map(int, args.size.split("x"))
    started = time.perf_counter()
    photos = make_corpus(args.root / "photos", args.photos, width, height)
    print(f"{len(photos)} photos of {width}x{height} ready ({time.perf_counter() - started:.0f} s)")
    results = run_cases(args.root, photos, args.runs, args.settle)
    summary = {key: summarise(row) for key, row in results.items()}
    if args.text:
        seconds = text_rebuild(args.root, args.photos, args.runs)
        summary["broadsheet|text-only rebuild"] = summarise({"s": seconds})
    for key, row in summary.items():
        print(key, json.dumps(row))
    if args.json:
        found = {"photos": args.photos, "size": args.size, **summary}
        args.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
