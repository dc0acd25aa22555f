"""Parse a post's text (YAML front matter + Markdown) into a Post, with file:line errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from broadsheet.content.aliases import parse_alias
from broadsheet.content.post import (
    Post,
    count_words,
    newlines,
    normalise,
    place_of,
    text_digest,
)
from broadsheet.errors import BroadsheetError, BroadsheetErrors
from broadsheet.render.markdown import excerpt
from broadsheet.slugs import slugify
from broadsheet.text import (
    CHARACTER_REFERENCE,
    UNSHOWABLE,
    remove_unshowable,
    unshowable_reference,
)

MAX_FIELD_LENGTH = 10_000
# The years a date may fall in: room for a day's time zone shift either way, within
# what Python's datetime holds (1 to 9999), and four digits in every ISO 8601 output.
YEARS = range(1000, 9999)
EXCERPT_LENGTH = 160
FENCE = "---"


@dataclass(frozen=True)
class Field:
    """What a front matter key may hold, and whether a post must have it."""

    kind: str
    required: bool = False


FIELDS: dict[str, Field] = {
    "title": Field("text", required=True),
    "section": Field("text"),
    "slug": Field("slug"),
    "date": Field("date"),
    "updated": Field("date"),
    "author": Field("text"),
    "tags": Field("tags"),
    "summary": Field("text"),
    "source": Field("text"),
    "draft": Field("bool"),
    "import_hash": Field("text"),
    "aliases": Field("aliases"),
    "image": Field("text"),
    "image_alt": Field("text"),
    "image_caption": Field("text"),
    "image_credit": Field("text"),
}
IMAGE_DETAILS = ("image_alt", "image_caption", "image_credit")


@dataclass(frozen=True)
class _Split:
    """A post's text cut into its front matter and its body (and the line the body starts on)."""

    header: str
    body: str
    body_line: int


def split_front_matter(path: Path, text: str) -> _Split:
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise BroadsheetError("a post must start with '---' and YAML front matter", path, 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            rest = "\n".join(lines[index + 1 :])
            blank = len(rest) - len(rest.lstrip("\n"))  # blank lines before the body
            return _Split(
                header="\n".join(lines[1:index]),
                body=rest.strip("\n") + "\n",
                body_line=index + 2 + blank,
            )
    raise BroadsheetError("the front matter is never closed with '---'", path, 1)


def parse_post(
    path: Path, text: str, section_dir: str, zone: ZoneInfo, *, bundle: bool = False
) -> Post:
    """A post from its text; `section_dir` is the folder it lives in below content/, and
    `bundle` says whether it is a page bundle's index.md (its folder is its slug)."""
    text = normalise(text)
    split = split_front_matter(path, text)
    meta, lines = _load_yaml(path, split.header)
    errors: list[BroadsheetError] = []

    def fail(key: str, message: str) -> None:
        errors.append(BroadsheetError(f"{key}: {message}", path, lines.get(key, 1)))

    values = {key: _check(key, value, fail, zone) for key, value in meta.items()}
    for key, spec in FIELDS.items():
        if spec.required and meta.get(key) is None:
            fail(key, "is required")
    section = values.get("section") or section_dir.upper()
    if slugify(section, fallback="") != section_dir:
        fail("section", f"'{section}' contradicts the folder '{section_dir}/' it is in")
    _check_image(meta, values, fail)
    images, unlabelled = _body_images(split.body)
    if errors:
        raise BroadsheetErrors(errors)
    date = values.get("date")
    post = Post(
        path=path,
        title=values["title"],
        section=section,
        section_slug=section_dir,
        slug=values.get("slug") or slugify(path.parent.name if bundle else path.stem),
        date=date[0] if date else None,
        has_time=date[1] if date else False,
        updated=values["updated"][0] if values.get("updated") else None,
        author=values.get("author") or None,
        tags=values.get("tags") or (),
        summary=values.get("summary") or None,
        source=values.get("source"),
        draft=bool(values.get("draft", False)),
        aliases=values.get("aliases") or (),
        body_line=split.body_line,
        digest=text_digest(text),
        excerpt=excerpt(split.body, EXCERPT_LENGTH),
        words=count_words(split.body),
        header_digest=text_digest(f"{path}\0{split.header}"),
        body_text=split.body,
        bundle=bundle,
        image=values.get("image"),
        image_alt=values.get("image_alt"),
        image_caption=values.get("image_caption"),
        image_credit=values.get("image_credit"),
        images=images,
        unlabelled=unlabelled,
    )
    return dataclasses.replace(post, place_digest=place_of(post))


def _check_image(
    meta: dict[str, Any], values: dict[str, Any], fail: Callable[[str, str], None]
) -> None:
    """The featured image's keys: a file, not a URL; alt text with it; none without it."""
    image = values.get("image")
    if image is not None and not is_local_image(image):
        fail(
            "image",
            f"'{image}' is not a file of the article or a site path "
            "(such as photo.jpg beside index.md, or /images/photo.jpg from static/)",
        )
    if "image_alt" in meta and meta["image_alt"] is not None and values.get("image_alt") is None:
        return  # already reported: not text, or empty
    if image is None and "image" not in meta:
        for key in IMAGE_DETAILS:
            if meta.get(key) is not None:
                fail(key, "is given without image: add the image it describes, or remove it")


def is_local_image(src: str) -> bool:
    """Whether an image reference names a file of the site: a path, relative or from
    the site's root, not a URL of another site (nor data:, nor a fragment)."""
    parts = urlsplit(src)
    return not (parts.scheme or parts.netloc or not parts.path)


def _body_images(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The local images the body's Markdown shows (`src` as written), and the images it
    shows without alt text (local or not): the build and `check` report those."""
    if "![" not in body:  # every Markdown image has it
        return (), ()
    from broadsheet.render.markdown import markdown_images

    found = markdown_images(body)
    local = tuple(dict.fromkeys(image.src for image in found if is_local_image(image.src)))
    return local, tuple(dict.fromkeys(image.src for image in found if not image.alt.strip()))


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present


class _Loader(_Base):  # type: ignore[misc]
    """Safe YAML that leaves dates as text, so that we parse them and name bad ones."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


def _load_yaml(path: Path, header: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The front matter as a mapping, and the line each key is on (1-based, in the file)."""
    last_line = header.count("\n") + 2
    loader = _Loader(header)
    try:
        node = loader.get_single_node()
        meta = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        # Where the broken construct starts (an unclosed bracket or quote), else the problem.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = min(mark.line + 2, last_line) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BroadsheetError(f"front matter is not valid YAML: {problem}", path, line) from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise BroadsheetError(f"front matter cannot be read: {exc}", path, 2) from exc
    finally:
        loader.dispose()
    if not isinstance(meta, dict) or not isinstance(node, yaml.MappingNode):
        raise BroadsheetError("front matter must be a mapping of keys to values", path, 2)
    keys = [
        (str(k.value), k.start_mark.line + 2)
        for k, _ in node.value
        if isinstance(k, yaml.ScalarNode)
    ]
    first: dict[str, int] = {}
    for key, line in keys:  # (draft: true, then draft: false, would publish it)
        if key not in first:
            first[key] = line
            continue
        if key == "aliases":  # ("add the line aliases: [...]", a vanished URL's error says)
            hint = "make them one list, such as aliases: [/old/one/, /old/two/]"
        else:
            hint = "keep the one you mean"
        raise BroadsheetError(
            f"{key}: given twice (lines {first[key]} and {line}), and YAML keeps only the "
            f"last: {hint}",
            path,
            line,
        )
    return meta, first


def _check(key: Any, value: Any, fail: Callable[[str, str], None], zone: ZoneInfo) -> Any:
    if not isinstance(key, str) or key not in FIELDS:
        hint = difflib.get_close_matches(str(key), list(FIELDS), n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        fail(str(key), f"unknown key{suggestion}")
        return None
    if value is None:
        return None
    value = _showable(value)
    kind = FIELDS[key].kind
    if kind == "text" or kind == "slug":
        if key == "image_alt" and isinstance(value, str) and not value.strip():
            fail(key, "is empty: describe the picture for readers who cannot see it")
            return None
        if isinstance(value, str) and not value.strip():
            fail(
                key,
                "is empty: give it a value"
                + ("" if FIELDS[key].required else ", or remove the line"),
            )
            return None
        if not isinstance(value, str):
            fail(key, f"must be text, not {_describe(value)}")
            return None
        if len(value) > MAX_FIELD_LENGTH:
            fail(key, f"is {len(value):,} characters long; the limit is {MAX_FIELD_LENGTH:,}")
            return None
        if kind == "slug" and slugify(value) != value:
            fail(key, f"'{value}' is not a slug (try '{slugify(value)}')")
            return None
        return value.strip()
    if kind == "bool":
        if not isinstance(value, bool):
            fail(key, f"must be true or false, not {_describe(value)}")
            return None
        return value
    if kind == "tags":
        return _check_tags(key, value, fail)
    if kind == "aliases":
        return _check_aliases(key, value, fail)
    return _check_date(key, value, fail, zone)


def _check_tags(key: str, value: Any, fail: Callable[[str, str], None]) -> tuple[str, ...] | None:
    # `tags: trade, energy` is YAML for one string; its writer meant two topics.
    items = [t for t in value.split(",") if t.strip()] if isinstance(value, str) else value
    if not items or not isinstance(items, list):
        fail(key, f"must be a list of topics such as [trade, energy], not {_describe(value)}")
        return None
    if not all(isinstance(t, str) and t.strip() for t in items):
        fail(key, f"must be a list of words, not {_describe(value)}")
        return None
    tags: dict[str, str] = {}  # slug -> the first spelling: `Trade` and `trade` are one page
    for tag in items:
        tags.setdefault(slugify(tag.strip()), tag.strip())
    return tuple(tags.values())


def _check_aliases(
    key: str, value: Any, fail: Callable[[str, str], None]
) -> tuple[str, ...] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(a, str) for a in items):
        fail(key, f"must be a list of old paths such as [/asia/old-slug/], not {_describe(value)}")
        return None
    paths: list[str] = []
    for item in items:
        try:
            path = parse_alias(item.strip())
        except ValueError as exc:
            fail(key, str(exc))
            return None
        if path not in paths:
            paths.append(path)
    return tuple(paths)


def _check_date(
    key: str, value: Any, fail: Callable[[str, str], None], zone: ZoneInfo
) -> tuple[dt.datetime, bool] | None:
    if isinstance(value, dt.datetime):
        parsed, has_time = value, True
    elif isinstance(value, dt.date):
        parsed, has_time = dt.datetime(value.year, value.month, value.day), False
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            fail(key, f"'{value}' is not a date (write it as 2025-02-09 or 2025-02-09 14:30)")
            return None
        has_time = len(value.strip()) > 10
    else:
        fail(key, f"must be a date such as 2025-02-09, not {_describe(value)}")
        return None
    # Inside the bounds, a time zone moves a date by a day at most: never out of range.
    # Whole seconds: the build's cache keeps a date as a float timestamp, which holds
    # microseconds only for years near 1970. Through UTC: a local time that the zone
    # skips (02:30 as the clocks go forward) is the moment it stands for, shown as the
    # zone shows that moment (03:30), as the cache gives it back. (astimezone to the
    # zone it has already changes nothing: a cold build showed 02:30-05:00, the next
    # one 03:30-04:00.)
    if parsed.year in YEARS:
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        moment = moment.astimezone(dt.UTC).astimezone(zone).replace(microsecond=0)
        if moment.year in YEARS:
            return moment, has_time
    fail(
        key,
        f"'{value}' is out of range: an archive's dates lie in the years "
        f"{YEARS.start} to {YEARS.stop - 1} (in the site's time zone)",
    )
    return None


def _showable(value: Any) -> Any:
    """A value, or a list's items, without what no page or feed can hold: YAML's escapes
    ("\x01", "\ud800") make characters that the file's text itself never had."""
    if isinstance(value, str):
        return remove_unshowable(value)
    if isinstance(value, list):
        return [remove_unshowable(item) if isinstance(item, str) else item for item in value]
    return value


def unshowable_characters(path: Path, text: str) -> list[tuple[int, str]]:
    """(line, character) of each character in a post that it is read without: in its
    text, or made by an escape in its front matter ("\x1b"). For `check`'s warnings."""
    text = newlines(text)
    found = [
        (number, char)
        for number, line in enumerate(text.split("\n"), start=1)
        for char in UNSHOWABLE.findall(line)
        + [m[0] for m in CHARACTER_REFERENCE.finditer(line) if unshowable_reference(m)]
    ]
    try:
        meta, lines = _load_yaml(path, split_front_matter(path, normalise(text)).header)
    except BroadsheetError:
        return found
    for key, value in meta.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                found += [(lines.get(str(key), 1), c) for c in UNSHOWABLE.findall(item)]
    return sorted(found)


def _describe(value: Any) -> str:
    """A short description of a bad value: bounded even for YAML alias bombs."""
    return f"{type(value).__name__} {_SHORT.repr(value)}"


_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxstring = _SHORT.maxother = 60
