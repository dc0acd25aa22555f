"""Edit one key of a post's front matter in its text, leaving every other byte as it was."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from broadsheet.content.frontmatter import FENCE

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


class FrontMatter:
    """A post's text, split where its front matter keys are (its own line endings,
    byte order mark and comments kept)."""

    def __init__(self, text: str) -> None:
        self.lines = _LINES.findall(text)
        if not self.lines or self.lines[0].lstrip("\ufeff").rstrip() != FENCE:
            raise ValueError("a post must start with '---' and YAML front matter")
        end = next((i for i in range(1, len(self.lines)) if self.lines[i].rstrip() == FENCE), None)
        if end is None:
            raise ValueError("the front matter is never closed with '---'")
        self.end: int = end
        self.newline = "\r\n" if self.lines[0].endswith("\r\n") else "\n"

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def header(self) -> str:
        return "".join(self.lines[1 : self.end]).replace("\r\n", "\n").replace("\r", "\n")

    def meta(self) -> dict[str, Any]:
        found = yaml.safe_load(self.header()) or {}
        if not isinstance(found, dict):
            raise ValueError("the front matter is not a mapping of keys to values")
        return found

    def _span(self, key: str) -> tuple[int, int] | None:
        """The file lines [start, stop) that hold `key` and its value."""
        node = yaml.compose(self.header())
        if not isinstance(node, yaml.MappingNode):
            return None
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == key:
                stop = value.end_mark.line + (1 if value.end_mark.column > 0 else 0)
                start, stop = 1 + name.start_mark.line, 1 + max(stop, name.start_mark.line + 1)
                while stop - 1 > start and self.lines[stop - 1].strip()[:1] in ("", "#"):
                    stop -= 1  # comments and blank lines after a block list are not its own
                return start, stop
        return None

    def drop(self, key: str) -> None:
        span = self._span(key)
        if span is not None:
            del self.lines[span[0] : span[1]]
            self.end -= span[1] - span[0]

    def set(self, key: str, value: str | list[str]) -> None:
        """Give `key` this value: its lines replaced by one, or a line added at the end."""
        line = f"{key}: {_yaml_value(value)}{self.newline}"
        span = self._span(key)
        if span is None:
            if not self.lines[self.end - 1].endswith(("\n", "\r")):
                self.lines[self.end - 1] += self.newline
            self.lines.insert(self.end, line)
            self.end += 1
        else:
            start, stop = span
            self.lines[start:stop] = [line]
            self.end -= stop - start - 1


def _yaml_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item, flow=True) for item in value) + "]"
    return _scalar(value, flow=False)


def _scalar(text: str, flow: bool) -> str:
    """`text` plain when YAML reads it back as that text, else in double quotes."""
    probe = f"k: [{text}]" if flow else f"k: {text}"
    try:
        back = yaml.safe_load(probe)
    except yaml.YAMLError:
        back = None
    if back == {"k": [text] if flow else text}:
        return text
    return json.dumps(text, ensure_ascii=False)
