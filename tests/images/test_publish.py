"""Publishing: hash-named files in one folder, each encoded once (the cache), pruned
when no longer used, encoded across the worker pool."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from broadsheet import stamps
from broadsheet.config import ImageSettings, SiteConfig
from broadsheet.errors import BroadsheetErrors
from broadsheet.images import ImageError, ImageOutcome, ImageRequest, publish_images, store
from broadsheet.publish.stage import Stage
from tests.images.makers import SECRET, animated_gif, gps_exif, jpeg, photo, write

SETTINGS = ImageSettings(widths=(24, 48))
REPO = Path(__file__).resolve().parents[2]


def config(
    root: Path, base_url: str = "https://example.test/archive/", **images: object
) -> SiteConfig:
    settings = ImageSettings(**{**SETTINGS.__dict__, **images})
    return SiteConfig(root=root, base_url=base_url, images=settings)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project with three photos (one also under a second name) and a GIF."""
    root = tmp_path / "project"
    for number in range(3):
        write(root, f"content/asia/post-{number}/photo.jpg", jpeg(photo(64, 48, number)))
    write(
        root, "content/asia/post-9/same.jpg", (root / "content/asia/post-0/photo.jpg").read_bytes()
    )
    write(root, "static/spin.gif", animated_gif())
    return root


def requests(root: Path) -> list[ImageRequest]:
    content = root / "content/asia"
    return [
        ImageRequest(content / "post-0/photo.jpg", crops=True),
        ImageRequest(content / "post-1/photo.jpg"),
        ImageRequest(content / "post-2/photo.jpg"),
        ImageRequest(content / "post-9/same.jpg"),
        ImageRequest(root / "static/spin.gif"),
    ]


def publish(
    root: Path,
    output: Path,
    reqs: list[ImageRequest] | None = None,
    jobs: int = 1,
    **images: object,
) -> ImageOutcome:
    """Publish into `output` as a build does: over the live site when there is one."""
    stage = Stage(output.with_name(output.name + ".new"), base=output if output.exists() else None)
    outcome = publish_images(
        config(root, **images),
        reqs if reqs is not None else requests(root),
        stage,
        root / ".cache",
        jobs,
    )
    _commit(stage, output)
    return outcome


def _commit(stage: Stage, output: Path) -> None:
    output.mkdir(exist_ok=True)
    for relative in stage.removed:
        (output / relative).unlink()
    for relative in stage.staged():
        (output / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage.root / relative, output / relative)
    shutil.rmtree(stage.root, ignore_errors=True)


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_files_are_hash_named_in_one_folder_and_pictures_say_how_to_show_them(
    site: Path, tmp_path: Path
) -> None:
    outcome = publish(site, tmp_path / "out")
    assert outcome.encoded == 4  # the same photo under two names: encoded once
    published = tree(tmp_path / "out")
    assert set(published) == set(outcome.files)
    for relative in published:
        folder, name = relative.split("/")
        assert (
            folder == "media"
            and name.split("-")[0]
            == hashlib.blake2b(
                (tmp_path / "out" / relative).read_bytes(), digest_size=8
            ).hexdigest()
        )
    featured = outcome.pictures[site / "content/asia/post-0/photo.jpg"]
    assert (featured.kind, featured.width, featured.height) == ("raster", 48, 36)
    assert [s.mime for s in featured.sources] == ["image/avif", "image/webp"]
    assert featured.mime == "image/jpeg" and featured.src.endswith("-48.jpg")
    assert featured.sources[1].srcset.startswith("/archive/media/")
    assert [(f.width, f.height) for f in featured.fallback.files] == [(24, 18), (48, 36)]
    assert [(c.ratio, c.width, c.height) for c in featured.crops] == [
        ("16:9", 64, 36), ("4:3", 64, 48), ("1:1", 48, 48)
    ]  # fmt: skip
    twin = outcome.pictures[site / "content/asia/post-9/same.jpg"]
    assert twin.sources == featured.sources and twin.crops == ()
    spin = outcome.pictures[site / "static/spin.gif"]
    assert (spin.kind, spin.sources, spin.width) == ("animated", (), 40)
    assert (tmp_path / "out" / spin.src.removeprefix("/archive/")).read_bytes() == animated_gif()
    every = {
        f.url for p in outcome.pictures.values() for s in (*p.sources, p.fallback) for f in s.files
    }
    every |= {c.url for p in outcome.pictures.values() for c in p.crops}
    assert {url.removeprefix("/archive/") for url in every} == set(outcome.files)


def test_nothing_is_encoded_twice(site: Path, tmp_path: Path) -> None:
    cold = publish(site, tmp_path / "out")
    first = tree(tmp_path / "out")
    again = publish(site, tmp_path / "out")  # nothing changed (a text edit, a template)
    assert (again.encoded, again.pictures) == (0, cold.pictures)
    assert tree(tmp_path / "out") == first
    fresh = publish(site, tmp_path / "empty-site")  # the site gone, the cache kept
    assert (fresh.encoded, fresh.pictures) == (0, cold.pictures)
    assert tree(tmp_path / "empty-site") == first


def test_a_post_rename_or_a_fresh_clone_encodes_nothing(site: Path, tmp_path: Path) -> None:
    cold = publish(site, tmp_path / "out")
    content = site / "content/asia"
    (content / "post-1").rename(content / "renamed")
    moved = [
        ImageRequest(r.source.parent.with_name("renamed") / r.source.name, r.crops)
        if r.source.parent.name == "post-1" else r
        for r in requests(site)
    ]  # fmt: skip
    renamed = publish(site, tmp_path / "out", moved)
    assert renamed.encoded == 0 and renamed.files == cold.files
    clone = tmp_path / "clone"
    shutil.copytree(site, clone)  # new paths, new times, new inodes; the cache restored
    cloned = publish(clone, tmp_path / "clone-site", [
        ImageRequest(clone / r.source.relative_to(site), r.crops) for r in moved
    ])  # fmt: skip
    assert cloned.encoded == 0 and cloned.files == cold.files
    assert tree(tmp_path / "clone-site") == tree(tmp_path / "out")


def test_a_replaced_photo_is_encoded_again_and_its_old_files_go(site: Path, tmp_path: Path) -> None:
    cold = publish(site, tmp_path / "out")
    photo_path = site / "content/asia/post-2/photo.jpg"
    old = cold.pictures[photo_path]
    photo_path.write_bytes(jpeg(photo(64, 48, 7)))
    after = publish(site, tmp_path / "out")
    assert after.encoded == 1
    new = after.pictures[photo_path]
    assert new.src != old.src
    published = set(tree(tmp_path / "out"))
    assert new.src.removeprefix("/archive/") in published
    assert old.src.removeprefix("/archive/") not in published
    assert published == set(after.files)


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources safely old (not "racy": see broadsheet.stamps), as photos mostly are."""
    monkeypatch.setattr(stamps, "_clock", lambda: time.time_ns() + 60 * 10**9)


def test_unused_images_leave_the_site_and_in_time_the_cache(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled: None
) -> None:
    monkeypatch.setattr(store, "GRACE", -1)
    write(tmp_path / "out", "media/logo.png", b"a static file of the site's own")
    publish(site, tmp_path / "out")
    cache_files = set(os.listdir(site / ".cache/files"))
    one, two = requests(site)[1:2], requests(site)[2:3]
    for _ in range(2):  # the same images again: not a build that changed what is used
        outcome = publish(site, tmp_path / "out", one)
        assert set(tree(tmp_path / "out")) == set(outcome.files) | {"media/logo.png"}
    assert set(os.listdir(site / ".cache/files")) == cache_files
    for asked in (two, one)[: store.KEEP - 1]:
        outcome = publish(site, tmp_path / "out", asked)
        assert set(tree(tmp_path / "out")) == set(outcome.files) | {"media/logo.png"}
    kept = set(os.listdir(site / ".cache/files"))  # what the last KEEP builds used
    used = {f.removeprefix("media/") for asked in (one, two) for f in publish_files(site, asked)}
    assert kept == used and kept < cache_files
    assert len(os.listdir(site / ".cache/entries")) == 2
    # What was dropped is encoded again when it comes back, and found whole.
    back = publish(site, tmp_path / "out")
    assert back.encoded == 2


def publish_files(root: Path, asked: list[ImageRequest]) -> frozenset[str]:
    stage = Stage(root.parent / "scratch", private=True)
    return publish_images(config(root), asked, stage, None, 1).files


def test_a_rebuild_that_uses_the_same_images_writes_nothing(
    site: Path, tmp_path: Path, settled: None
) -> None:
    publish(site, tmp_path / "out")
    publish(site, tmp_path / "out")  # the sources are now known by their stamps

    def cache() -> dict[str, tuple[int, str]]:
        return {
            str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in (site / ".cache").rglob("*") if p.is_file()
        }  # fmt: skip

    before = cache()
    assert publish(site, tmp_path / "out").encoded == 0
    assert cache() == before


def test_settings_are_part_of_the_key(site: Path, tmp_path: Path) -> None:
    publish(site, tmp_path / "out")
    assert publish(site, tmp_path / "out", quality=50).encoded == 4
    assert publish(site, tmp_path / "out", widths=(24,)).encoded == 4  # (the GIF: copied)
    assert publish(site, tmp_path / "out", quality=50).encoded == 0  # still cached


def test_a_damaged_cache_is_never_trusted(site: Path, tmp_path: Path) -> None:
    cold = publish(site, tmp_path / "out")
    for folder in ("files", "entries"):
        for path in (site / ".cache" / folder).iterdir():
            data = bytearray(path.read_bytes())
            data[-1] ^= 1
            path.write_bytes(bytes(data))
    (site / ".cache/sources.json").write_text("{}")
    fresh = publish(site, tmp_path / "fresh-site")
    assert fresh.encoded == 4 and fresh.files == cold.files
    assert tree(tmp_path / "fresh-site") == tree(tmp_path / "out")


def test_encoding_across_workers_gives_the_same_files(site: Path, tmp_path: Path) -> None:
    one = publish(site, tmp_path / "one", jobs=1)
    shutil.rmtree(site / ".cache")
    two = publish(site, tmp_path / "two", jobs=2)
    assert two.encoded == one.encoded == 4
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_every_bad_image_is_reported_at_once(site: Path, tmp_path: Path) -> None:
    bad = [
        write(site, "content/a/cut.jpg", jpeg(photo(64, 48))[:300]),
        write(site, "content/b/x.jpg", b"text"),
    ]
    reqs = [*requests(site), *(ImageRequest(path) for path in bad), ImageRequest(site / "gone.png")]
    for jobs in (1, 2):
        with pytest.raises(BroadsheetErrors) as caught:
            publish(site, tmp_path / "out", reqs, jobs=jobs)
        errors = caught.value.errors
        assert all(isinstance(e, ImageError) for e in errors)
        assert sorted(str(e.path) for e in errors) == sorted(map(str, [*bad, site / "gone.png"]))


def test_gps_is_in_no_published_file(site: Path, tmp_path: Path) -> None:
    tagged = write(
        site, "content/asia/post-5/gps.jpg", jpeg(photo(64, 48), exif=gps_exif(6), comment=SECRET)
    )
    publish(site, tmp_path / "out", [ImageRequest(tagged, crops=True)])
    published = list((tmp_path / "out/media").iterdir())
    assert published and not any(SECRET in path.read_bytes() for path in published)


def test_a_cache_file_under_another_files_name_is_not_trusted(site: Path, tmp_path: Path) -> None:
    cold = publish(site, tmp_path / "out")
    files = sorted((site / ".cache/files").iterdir())
    first, second = files[0].read_bytes(), files[1].read_bytes()  # both sealed, both sound
    files[0].write_bytes(second)
    files[1].write_bytes(first)
    fresh = publish(site, tmp_path / "fresh-site")
    assert fresh.encoded >= 1 and fresh.files == cold.files
    assert tree(tmp_path / "fresh-site") == tree(tmp_path / "out")


def test_a_rebuild_with_every_image_cached_does_not_load_pillow(site: Path, tmp_path: Path) -> None:
    publish(site, tmp_path / "out")
    asked = [(str(r.source), r.crops) for r in requests(site)]
    script = f"""
import sys
from pathlib import Path
from typing import Any
from broadsheet.config import ImageSettings, SiteConfig
from broadsheet.images import ImageRequest, publish_images
from broadsheet.publish.stage import Stage
config = SiteConfig(root=Path({str(site)!r}), images=ImageSettings(widths=(24, 48)))
stage = Stage(Path({str(tmp_path / "new")!r}), base=Path({str(tmp_path / "out")!r}))
wanted = [ImageRequest(Path(source), crops) for source, crops in {asked!r}]
outcome = publish_images(config, wanted, stage, Path({str(site / ".cache")!r}))
print(outcome.encoded, "PIL" in sys.modules, stage.staged())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.split() == ["0", "False", "[]"], done.stderr


def test_another_pillow_encodes_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(site, tmp_path / "out")
    monkeypatch.setattr(store, "_pillow_stamp", lambda: [["PIL/_avif.so", 1, 2, 0, 3]])
    assert publish(site, tmp_path / "out").encoded == 0  # its stamp changed, not its versions
    monkeypatch.setattr(store, "_pillow_stamp", lambda: [["PIL/_avif.so", 9, 9, 0, 9]])
    monkeypatch.setattr(store, "encoder_versions", lambda: ["99.0", "libavif 2.0"])
    assert publish(site, tmp_path / "out").encoded == 4


@pytest.mark.parametrize("seed", range(3))
def test_after_any_edits_the_site_is_what_a_cold_build_makes(tmp_path: Path, seed: int) -> None:
    """Photos added, replaced, removed, renamed, made featured or not, in a seeded
    order: after each step the published files are those of a build with no cache."""
    rng = random.Random(seed)
    root = tmp_path / "project"
    photos: dict[str, tuple[int, bool]] = {}  # name -> (picture seed, featured)
    for step in range(7):
        names = sorted(photos)
        action = rng.choice(
            ["add", "add", "replace", "remove", "rename", "feature"] if names else ["add"]
        )
        if action == "add":
            photos[f"p{step}.jpg"] = (rng.randrange(4), rng.random() < 0.5)
        elif action == "replace":
            name = rng.choice(names)
            photos[name] = (rng.randrange(4, 8), photos[name][1])
        elif action == "remove":
            del photos[rng.choice(names)]
        elif action == "rename":
            photos[f"r{step}.jpg"] = photos.pop(rng.choice(names))
        else:
            name = rng.choice(names)
            photos[name] = (photos[name][0], not photos[name][1])
        shutil.rmtree(root / "content", ignore_errors=True)
        for name, (picture, _) in photos.items():
            write(root, f"content/{name}", jpeg(photo(40, 30, picture % 3).rotate(90 * picture)))
        reqs = [ImageRequest(root / "content" / n, crops=f) for n, (_, f) in photos.items()]
        warm = publish(root, tmp_path / "site", reqs)
        cold_site = tmp_path / f"cold-{step}"
        stage = Stage(cold_site, private=True)
        cold = publish_images(config(root), reqs, stage, None, 1)
        assert tree(tmp_path / "site") == tree(cold_site), (step, action)
        assert warm.pictures == cold.pictures and warm.files == cold.files


def test_a_worker_killed_while_encoding_stops_with_a_clear_error(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.images import publish as publishing
    from broadsheet.workers import WorkerDied

    encode = publishing._encode_task

    def dies_on_the_gif(task: Any) -> Any:
        if task.source.name == "spin.gif":
            os.kill(os.getpid(), signal.SIGKILL)
        return encode(task)

    monkeypatch.setattr(publishing, "_encode_task", dies_on_the_gif)
    with pytest.raises(WorkerDied, match=r"encoding images .* was killed by SIGKILL"):
        publish(site, tmp_path / "out", jobs=2)
    monkeypatch.setattr(publishing, "_encode_task", encode)
    again = publish(site, tmp_path / "fresh", jobs=2)
    assert set(tree(tmp_path / "fresh")) == set(again.files)
    shutil.rmtree(site / ".cache")
    assert tree(tmp_path / "fresh") == tree(
        publish(site, tmp_path / "cold").files and tmp_path / "cold"
    )


def test_a_cache_entry_naming_a_path_outside_media_is_not_followed(
    site: Path, tmp_path: Path
) -> None:
    from broadsheet.sealed import read_sealed, write_sealed

    cold = publish(site, tmp_path / "out")
    for path in (site / ".cache/entries").iterdir():  # sealed again: only the checksum is sound
        entry = json.loads(read_sealed(path) or b"")
        entry["files"][0]["name"] = "../../escaped.jpg"
        write_sealed(path, json.dumps(entry).encode())
    write_sealed(site / ".cache/files/../../escaped.jpg", b"planted")  # what it would copy
    again = publish(site, tmp_path / "fresh")
    assert again.encoded == 4 and again.files == cold.files
    assert [p.parent for p in tmp_path.rglob("escaped.jpg")] == [site]


def test_a_fresh_clones_photos_are_read_to_hash_once_a_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a fresh clone every photo's stamp is new: the build's cache hashes its sources,
    and the image stage hashes its photos; the two share what they hashed."""
    from broadsheet.publish import cache

    publish(site, tmp_path / "out")
    reads: list[Path] = []
    read = store.read_source
    monkeypatch.setattr(store, "read_source", lambda path: reads.append(path) or read(path))
    hashed = stamps.content_hash
    monkeypatch.setattr(
        stamps, "content_hash", lambda path, *a: reads.append(Path(path)) or hashed(path, *a)
    )
    for name, first in (("clone", "images"), ("clone-2", "cache")):
        clone = tmp_path / name
        shutil.copytree(site, clone)  # new times and inodes: every stamp is new
        wanted = [ImageRequest(clone / r.source.relative_to(site), r.crops) for r in requests(site)]
        sources = [str(r.source) for r in wanted]
        if first == "cache":  # the build's cache hashed them (a changed stamp) before
            assert all(cache.file_hash(s, stamps.stamp_file(s, None)) for s in sources)
        outcome = publish(clone, tmp_path / f"{name}-site", wanted)
        if first == "images":  # then the build records every source's hash
            assert all(cache.file_hash(s, stamps.stamp_file(s, None)) for s in sources)
        assert outcome.encoded == 0
        assert sorted(map(str, reads)) == sorted(sources), first  # each read once
        reads.clear()


def test_an_image_cache_from_before_xxh3_is_used_not_encoded_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caches written before sources were hashed by XXH3 (sealed by blake2b, entries
    keyed by the blake2b hash of each source's bytes) are hours of encoding for a large
    archive: their entries are found by their old keys, once, and kept under the new."""
    from broadsheet import sealed
    from tests.sitecheck import tree_bytes

    def blake2b(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    with monkeypatch.context() as before:  # as the previous version wrote its cache
        before.setattr(store, "source_digest", blake2b)
        before.setattr("broadsheet.images.publish.source_digest", blake2b)
        before.setattr(stamps, "bytes_hash", blake2b)
        before.setattr(sealed, "bytes_hash", blake2b)  # (seals by blake2b)
        before.setattr(sealed, "hasher", lambda: hashlib.blake2b(digest_size=16))
        first = publish(site, tmp_path / "old")
        stamps.HASHED.clear()
    assert first.encoded > 0
    clone = tmp_path / "clone"  # as on a runner: new stamps, the cache restored
    shutil.copytree(site, clone)
    wanted = [ImageRequest(clone / r.source.relative_to(site), r.crops) for r in requests(site)]
    again = publish(clone, tmp_path / "new", wanted)
    assert again.encoded == 0
    assert tree_bytes(tmp_path / "new") == tree_bytes(tmp_path / "old")
    reads: list[Path] = []
    read = store.read_source
    monkeypatch.setattr(store, "read_source", lambda path: reads.append(path) or read(path))
    shutil.rmtree(tmp_path / "new")
    assert publish(clone, tmp_path / "new", wanted).encoded == 0
    assert reads == []  # kept under the new keys: no source read to look for the old
