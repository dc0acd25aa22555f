"""Publishing: hash-named files in one folder, each encoded once (the cache), pruned
when no longer used, encoded across the worker pool."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from broadsheet.config import ImageSettings, SiteConfig
from broadsheet.errors import BroadsheetErrors
from broadsheet.images import ImageError, ImageOutcome, ImageRequest, publish_images, store
from broadsheet.publish.stage import Stage
from tests.images.makers import SECRET, animated_gif, gps_exif, jpeg, photo, write

SETTINGS = ImageSettings(widths=(24, 48))


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
        config(root, **images), reqs or requests(root), stage, root / ".cache", jobs
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


def test_unused_images_leave_the_site_and_in_time_the_cache(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "GRACE", -1)
    write(tmp_path / "out", "media/logo.png", b"a static file of the site's own")
    publish(site, tmp_path / "out")
    cache_files = set(os.listdir(site / ".cache/files"))
    one = requests(site)[1:2]
    for _ in range(store.KEEP):
        outcome = publish(site, tmp_path / "out", one)
        assert set(tree(tmp_path / "out")) == set(outcome.files) | {"media/logo.png"}
    kept = set(os.listdir(site / ".cache/files"))
    assert kept == {f.removeprefix("media/") for f in outcome.files} and kept < cache_files
    assert len(os.listdir(site / ".cache/entries")) == 1
    # What was dropped is encoded again when it comes back, and found whole.
    back = publish(site, tmp_path / "out")
    assert back.encoded == 3


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
