"""A section's line in pyproject.toml, renamed when `mv` renames the section."""

from __future__ import annotations

import tomllib
from typing import Any

from broadsheet.config import PYPROJECT, SiteConfig
from broadsheet.errors import BroadsheetError, display_path
from broadsheet.files import rewrite_whole


def rename_section_setting(config: SiteConfig, old: str, new: str) -> str:
    """Rename `old` to `new` in [tool.broadsheet.sections], keeping its name and place
    (or drop its line, when `new` is listed already). Returns what it did, or what the
    author must do when it cannot do it safely."""
    pyproject = config.root / PYPROJECT
    if not any(section.slug == old for section in config.sections):
        return f"the section '{old}' is not listed in {PYPROJECT}: nothing to rename there"
    how = f"rename {old} to {new} under [tool.broadsheet.sections] in {PYPROJECT} yourself"
    try:
        text = pyproject.read_text(encoding="utf-8")
        before = tomllib.loads(text)["tool"]["broadsheet"]["sections"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as exc:
        return f"warning: cannot read {display_path(pyproject)} ({exc}); {how}"
    edited = _edited(text, old, new, new in before)
    expected = _renamed(before, old, new)
    try:
        after = tomllib.loads(edited or "")["tool"]["broadsheet"]["sections"]
    except (tomllib.TOMLDecodeError, KeyError):
        after = None
    if edited is None or after is None or list(after.items()) != list(expected.items()):
        return f"warning: cannot edit {display_path(pyproject)} safely; {how}"
    try:  # whole or not at all, with its owner and mode (never cut short by a full disk)
        rewrite_whole(pyproject, edited.encode("utf-8"))
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}; {how}", pyproject) from exc
    if new in before:
        return f"removed {old} from [tool.broadsheet.sections] in {display_path(pyproject)}"
    return f"renamed {old} to {new} in [tool.broadsheet.sections] of {display_path(pyproject)}"


def _renamed(sections: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    if new in sections:
        return {k: v for k, v in sections.items() if k != old}
    return {new if k == old else k: v for k, v in sections.items()}


def _edited(text: str, old: str, new: str, drop: bool) -> str | None:
    lines = text.splitlines(keepends=True)
    inside = False
    for index, line in enumerate(lines):
        bare = line.split("#")[0].strip()
        if bare.startswith("["):
            inside = bare.replace(" ", "") == "[tool.broadsheet.sections]"
            continue
        key, equals, _ = line.partition("=")
        if inside and equals and key.strip().strip("\"'") == old:
            if drop:
                del lines[index]
            else:
                lines[index] = line.replace(key.strip(), new, 1)
            return "".join(lines)
    return None
