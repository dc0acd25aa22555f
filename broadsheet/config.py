"""Site settings from `[tool.broadsheet]` in pyproject.toml, validated."""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import os
import re
import reprlib
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broadsheet.errors import BroadsheetError
from broadsheet.paths import resolve
from broadsheet.slugs import RESERVED_SECTIONS, slugify
from broadsheet.text import UNSHOWABLE

PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class SectionSetting:
    """A section the settings name: its folder (slug) and the name shown."""

    slug: str
    name: str


IMAGE_FORMATS = ("avif", "webp")  # the modern formats; JPEG or PNG is always the fallback
# Pillow refuses images over twice its MAX_IMAGE_PIXELS (89.5 million) whatever we allow.
MOST_PIXELS = 178_956_970


@dataclass(frozen=True)
class ImageSettings:
    """`[tool.broadsheet.images]`: how photographs are published."""

    widths: tuple[int, ...] = (480, 800, 1200, 1600)  # srcset widths, never above the original
    formats: tuple[str, ...] = IMAGE_FORMATS  # <source>s besides the JPEG/PNG fallback
    quality: int = 75  # 1-100, for every lossy format
    max_pixels: int = 100_000_000  # larger images are refused as decompression bombs


@dataclass(frozen=True)
class SiteConfig:
    """Everything the build needs to know about the site and where its files live."""

    root: Path
    title: str = "Broadsheet Archive"
    description: str = "A regional-affairs news archive."
    base_url: str = "http://127.0.0.1:8000/"
    language: str = "en"
    timezone: str = "UTC"
    per_page: int = 10
    feed_size: int = 50
    sections: tuple[SectionSetting, ...] = field(default_factory=tuple)
    images: ImageSettings = field(default_factory=ImageSettings)
    content_dir: str = "content"
    output_dir: str = "site"
    templates_dir: str = "templates"
    static_dir: str = "static"
    # "Now" for time-relative outputs (the news sitemap), from SOURCE_DATE_EPOCH, so that
    # builds stay reproducible; None means "as of the newest article".
    now: datetime | None = None

    @property
    def base_path(self) -> str:
        """The URL path the site is served under, always with leading and trailing '/'."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def path(self, name: str) -> Path:
        return resolve(self.root / name)

    def section_name(self, slug: str, label: str | None = None) -> str:
        for section in self.sections:
            if section.slug == slug:
                return section.name
        return (label or slug.replace("-", " ")).strip().title()

    def section_rank(self, slug: str) -> tuple[int, str]:
        for index, section in enumerate(self.sections):
            if section.slug == slug:
                return (index, slug)
        return (len(self.sections), slug)


_SCALARS: dict[str, type] = {
    "title": str,
    "description": str,
    "base_url": str,
    "language": str,
    "timezone": str,
    "per_page": int,
    "feed_size": int,
}
KNOWN_KEYS = (*_SCALARS, "sections", "images")


@functools.cache
def zone_stamp(name: str) -> str:
    """The time zone `name` with a hash of its rules (the TZif file zoneinfo reads, from
    the system's zone database or the tzdata package): a cache that knew a zone only by
    its name would keep the UTC offsets of the rules it was built with after the rules
    changed (a tzdata update), though a build from scratch would use the new ones."""
    data = b""
    for folder in zoneinfo.TZPATH:  # (zoneinfo's own order: the system's, then tzdata)
        path = os.path.join(folder, *name.split("/"))
        if os.path.isfile(path):
            with contextlib.suppress(OSError), open(path, "rb") as handle:
                data = handle.read()
            break
    else:
        with contextlib.suppress(ImportError, OSError, ValueError):
            from importlib import resources

            data = resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()
    return f"{name}@{hashlib.blake2b(data, digest_size=8).hexdigest()}"


def find_root(start: Path) -> Path:
    """The project's folder: `start`, or the nearest folder above it whose pyproject.toml
    has a [tool.broadsheet] table (so that a command run in content/asia/ works on the
    project, not on a content/ of its own there); `start` when there is none."""
    for folder in (start, *start.parents):
        pyproject = folder / PYPROJECT
        if not pyproject.is_file():
            continue
        try:
            tools = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return folder  # (load_config says what is wrong with it)
        if isinstance(tools, dict) and "broadsheet" in tools:
            return folder
    return start


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read pyproject.toml below `root` (settings are optional) and apply CLI overrides."""
    pyproject = root / PYPROJECT
    table: dict[str, Any] = {}
    text = ""
    if pyproject.is_file():
        try:
            text = pyproject.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError as exc:
            at_line = exc.object[: exc.start].count(b"\n") + 1
            raise BroadsheetError("not UTF-8 text: save it as UTF-8", pyproject, at_line) from exc
        except tomllib.TOMLDecodeError as exc:  # (its message ends "(at line 3, column 7)")
            at = re.search(r" \(at line (\d+), column \d+\)$", str(exc))
            message = str(exc)[: at.start()] if at else str(exc)
            where = int(at[1]) if at else None
            raise BroadsheetError(f"not valid TOML: {message}", pyproject, where) from exc
        try:
            with _About(("tool",)):
                tools = data.get("tool", {})
                if not isinstance(tools, dict):
                    raise BroadsheetError("tool must be a table (as [tool.broadsheet] is)")
            with _about():
                table = tools.get("broadsheet", {})
                if not isinstance(table, dict):
                    raise BroadsheetError("[tool.broadsheet] must be a table")
            _refuse_misspelt(data, tools)
        except BroadsheetError as exc:
            raise _placed(exc, pyproject, text) from None
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        return parse_config(root, {**table, **given}, pyproject)
    except BroadsheetError as exc:  # a value from the command line: not the file's fault
        key = exc.setting[2] if len(exc.setting) > 2 else ""
        if key in given and isinstance(given[key], str):
            flag = "--" + key.replace("_", "-")
            raise BroadsheetError(f"{flag}: {exc.message}") from exc
        if exc.path is None and not exc.setting:  # (not the file's: SOURCE_DATE_EPOCH)
            raise
        raise _placed(exc, pyproject, text) from None


class _About:
    """`with _about(*keys)`: a settings error raised inside is about that setting (its
    keys below the file's top, as `tool`, `broadsheet`, `sections`, `asia`), unless
    one inside it already said which."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, BroadsheetError) and not exc.setting:
            exc.setting = self.keys


def _about(*keys: str) -> _About:
    """The setting `keys` of [tool.broadsheet] (see _About)."""
    return _About(("tool", "broadsheet", *keys))


def _placed(exc: BroadsheetError, pyproject: Path, text: str) -> BroadsheetError:
    """`exc` as an error in pyproject.toml at the line that sets what it is about."""
    line = setting_line(text, exc.setting) if exc.setting else None
    placed = BroadsheetError(exc.message, pyproject, line)
    placed.setting = exc.setting
    return placed


_HEADER = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
# A key: "quoted", 'literal' or bare (its name in one of the three groups); a dotted
# key's parts, and the keys a line sets.
_KEY = r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)"
_ASSIGNMENT = re.compile(rf"\s*((?:{_KEY})(?:\s*\.\s*(?:{_KEY}))*)\s*=")


def _dotted(keys: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, keys)
    return tuple(next(p for p in part if p) if any(part) else "" for part in parts)


def setting_line(text: str, keys: tuple[str, ...]) -> int | None:
    """The line of pyproject.toml's `text` that sets `keys` (a dotted key, such as
    tool.broadsheet.base_url): the line of its own `key = ...`, or of its table's
    header; else of the setting that holds it (an inline table, as `sections = {...}`);
    None if no line does (it came from elsewhere). Lines inside a multi-line string are
    never taken for settings."""
    table: tuple[str, ...] = ()
    holder = None
    quoted = None  # the quotes of a multi-line string open at the end of a line
    for number, line in enumerate(text.splitlines(), 1):
        if quoted is not None:
            if line.count(quoted) % 2:
                quoted = None
            continue
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("[["):
            table = _dotted(header[1])
            if table == keys:
                return number
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            full = table + _dotted(assignment[1])
            if full == keys:
                return number
            if keys[: len(full)] == full and holder is None:
                holder = number
        for mark in ('"""', "'''"):
            if line.count(mark) % 2:
                quoted = mark
                break
    return holder


def _refuse_misspelt(data: dict[str, Any], tools: dict[str, Any]) -> None:
    """A table meant as [tool.broadsheet] but named otherwise ([tool.broadshet],
    [broadsheet]) is an error: its settings would be left out without a word."""
    names = [f"tool.{name}" for name in tools] + [name for name in data if name != "tool"]
    for name in names:
        bare = name.removeprefix("tool.")
        near = difflib.get_close_matches(bare.lower(), ["broadsheet"], n=1, cutoff=0.8)
        if name != "tool.broadsheet" and near:
            with _About(("tool", bare) if name.startswith("tool.") else (name,)):
                raise BroadsheetError(
                    f"[{name}]: did you mean [tool.broadsheet]? Broadsheet reads its "
                    "settings from that table only"
                )


def parse_config(root: Path, table: dict[str, Any], source: Path) -> SiteConfig:
    values: dict[str, Any] = {}
    for key, value in table.items():
        with _about(key):
            values.update(_parse_setting(key, value, source))
    config = SiteConfig(root=root.resolve(), now=_source_date_epoch(), **values)
    _validate(config, source)
    return config


def _parse_setting(key: str, value: Any, source: Path) -> dict[str, Any]:
    """[tool.broadsheet]'s `key` set to `value`, as SiteConfig's arguments."""
    values: dict[str, Any] = {}
    if key == "sections":
        values["sections"] = _parse_sections(value, source)
    elif key == "images":
        values["images"] = _parse_images(value, source)
    elif key in _SCALARS:
        expected = _SCALARS[key]
        if not isinstance(value, expected) or isinstance(value, bool):
            kind = {str: "text", int: "a whole number"}.get(expected, expected.__name__)
            raise BroadsheetError(
                f"[tool.broadsheet] {key} must be {kind}, not {_SHORT.repr(value)}", source
            )
        values[key] = _showable(key, value, source)
    else:
        hint = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        known = ", ".join(KNOWN_KEYS)
        raise BroadsheetError(
            f"[tool.broadsheet] unknown key '{key}'{suggestion}; known keys: {known}", source
        )
    return values


# The latest SOURCE_DATE_EPOCH: the end of 9998, the last year a post's date may be in.
LATEST_EPOCH = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp()) - 1
_SHORT = reprlib.Repr()
_SHORT.maxstring = 40


def _source_date_epoch() -> datetime | None:
    """The build's "now" from SOURCE_DATE_EPOCH: whole seconds since 1970 in ASCII digits
    (int() takes "١٢" and "1_000" too, and rejects "²", which isdigit() passes)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise BroadsheetError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970 (digits 0-9), "
            f"not {_SHORT.repr(value)}"
        )
    digits = value.lstrip("0") or "0"  # int() refuses over 4,300 digits: compare first
    if len(digits) > len(str(LATEST_EPOCH)) or int(digits) > LATEST_EPOCH:
        raise BroadsheetError(
            f"SOURCE_DATE_EPOCH {_SHORT.repr(value)} is past the year 9998 "
            f"(the latest it may be is {LATEST_EPOCH})"
        )
    return datetime.fromtimestamp(int(digits), tz=UTC)


def _showable(key: str, value: Any, source: Path) -> Any:
    """A setting's value, if it holds nothing that no page or feed can hold."""
    found = UNSHOWABLE.search(value) if isinstance(value, str) else None
    if found is not None:
        raise BroadsheetError(
            f"[tool.broadsheet] {key} holds the control character U+{ord(found[0]):04X}, "
            "which no web page or feed can hold; remove it",
            source,
        )
    return value


def _parse_sections(value: Any, source: Path) -> tuple[SectionSetting, ...]:
    if not isinstance(value, dict):
        raise BroadsheetError(
            "[tool.broadsheet.sections] must map section slugs to display names", source
        )
    sections = []
    for slug, name in value.items():
        with _about("sections", slug):
            sections.append(_parse_section(slug, name, source))
    return tuple(sections)


def _parse_section(slug: str, name: Any, source: Path) -> SectionSetting:
    if slug in _SCALARS:  # written below the sections' table, which TOML files it in
        raise BroadsheetError(
            f"[tool.broadsheet.sections] {slug} is a setting, not a section: move the line "
            "above [tool.broadsheet.sections], into [tool.broadsheet]",
            source,
        )
    if slug in RESERVED_SECTIONS:
        raise BroadsheetError(
            f"[tool.broadsheet.sections] '{slug}' cannot be a section: its URL /{slug}/ "
            f"belongs to {RESERVED_SECTIONS[slug]}",
            source,
        )
    if slugify(slug) != slug:
        raise BroadsheetError(
            f"[tool.broadsheet.sections] '{slug}' is not a slug (try '{slugify(slug)}')", source
        )
    if not isinstance(name, str) or not name.strip():
        raise BroadsheetError(
            f"[tool.broadsheet.sections] {slug} needs a display name, not {name!r}", source
        )
    name = _showable(f"sections.{slug}", name, source)
    return SectionSetting(slug=slug, name=name.strip())


_IMAGE_KEYS = ("widths", "formats", "quality", "max_pixels")


def _parse_images(value: Any, source: Path) -> ImageSettings:
    if not isinstance(value, dict):
        raise BroadsheetError("[tool.broadsheet.images] must be a table", source)
    for key in value:
        if key not in _IMAGE_KEYS:
            hint = difflib.get_close_matches(key, _IMAGE_KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            with _about("images", key):
                raise BroadsheetError(
                    f"[tool.broadsheet.images] unknown key '{key}'{suggestion}; "
                    f"known keys: {', '.join(_IMAGE_KEYS)}",
                    source,
                )
    settings = ImageSettings()
    widths = value.get("widths", list(settings.widths))
    if not isinstance(widths, list) or not widths or not all(_whole(w, 16, 10_000) for w in widths):
        with _about("images", "widths"):
            raise BroadsheetError(
                f"[tool.broadsheet.images] widths must be a list of whole numbers of pixels "
                f"from 16 to 10000, such as [480, 800, 1200], not {_SHORT.repr(widths)}",
                source,
            )
    formats = value.get("formats", list(settings.formats))
    if not isinstance(formats, list) or not all(f in IMAGE_FORMATS for f in formats):
        with _about("images", "formats"):
            raise BroadsheetError(
                f"[tool.broadsheet.images] formats must be a list of {' and '.join(IMAGE_FORMATS)} "
                f"(JPEG or PNG is always published too), not {_SHORT.repr(formats)}",
                source,
            )
    quality = value.get("quality", settings.quality)
    if not _whole(quality, 1, 100):
        with _about("images", "quality"):
            raise BroadsheetError(
                f"[tool.broadsheet.images] quality must be a whole number from 1 to 100, "
                f"not {_SHORT.repr(quality)}",
                source,
            )
    most = value.get("max_pixels", settings.max_pixels)
    if not _whole(most, 1, MOST_PIXELS):
        with _about("images", "max_pixels"):
            raise BroadsheetError(
                f"[tool.broadsheet.images] max_pixels must be a whole number from 1 to "
                f"{MOST_PIXELS}, not {_SHORT.repr(most)}",
                source,
            )
    ordered = tuple(f for f in IMAGE_FORMATS if f in formats)
    return ImageSettings(tuple(sorted(set(widths))), ordered, quality, most)


def _whole(value: Any, least: int, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= most


def _validate(config: SiteConfig, source: Path) -> None:
    with _about("base_url"):
        _validate_url(config.base_url, source)
    with _about("language"):
        _validate_language(config.language, source)
    checks = (
        ("description", not config.description.strip(), DESCRIPTION_EMPTY),
        (
            "feed_size",
            config.feed_size < 1,
            f"feed_size must be at least 1, not {config.feed_size}",
        ),
        ("per_page", config.per_page < 1, f"per_page must be at least 1, not {config.per_page}"),
        ("title", not config.title.strip(), "title must not be empty"),
    )
    for key, wrong, message in checks:
        if wrong:
            with _about(key):
                raise BroadsheetError(message, source)
    with _about("timezone"):
        try:
            ZoneInfo(config.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # (a folder: OSError)
            raise BroadsheetError(
                f"timezone {config.timezone!r} is not a known time zone", source
            ) from exc


DESCRIPTION_EMPTY = (
    "description must not be empty: it is the site's tagline and search engines' summary of it"
)


def _validate_url(url: str, source: Path) -> None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # (a port that is no number, or past 65535, raises ValueError)
    except ValueError:  # (an unclosed IPv6 address too)
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BroadsheetError(
            f"base_url must be an absolute http(s) URL such as "
            f"'https://example.github.io/archive/', not {url!r}",
            source,
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise BroadsheetError(f"base_url must not have a query or fragment: {url!r}", source)
    why = _bad_url_part(url, parts.path, parts.username is not None)
    if why:
        raise BroadsheetError(f"base_url {why}: {url!r}", source)


def _validate_language(language: str, source: Path) -> None:
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", language):
        raise BroadsheetError(
            f"language must be a language tag such as 'en' or 'pt-BR', not {_SHORT.repr(language)}",
            source,
        )


def _bad_url_part(url: str, path: str, credentials: bool) -> str | None:
    """Why the base URL `url` (its `path`) cannot be the site's, if it cannot."""
    if not url.isascii() or any(c.isspace() or c == "\\" for c in url):
        return (
            "must be printable ASCII, with no spaces or backslashes (percent-encode "
            "others; a host in another script is written as xn--...)"
        )
    if credentials:
        return "must not hold a user name or password (every page would publish it)"
    if "//" in path:
        return "must not have '//' in its path (a browser reads '//x/' as another host)"
    if any(part in (".", "..") for part in path.split("/")):
        return "must not have '.' or '..' in its path"
    if re.search(r"%(?![0-9A-Fa-f]{2})", path):
        return "has a '%' that starts no escape (write a % sign as %25)"
    return None
