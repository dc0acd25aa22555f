from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadsheet.content.post import Post

FIELDS: tuple[str, ...]

def decode_shard(
    entries: dict[str, Any],
    shard: int,
    shards: int,
    stamps: dict[str, list[Any]],
    prefix: str,
    content_dir: Path,
    folders: dict[str, Path],
    child: Callable[[Path, str], Path],
    zone: ZoneInfo,
    texts: dict[str, str],
    post_type: type[Post],
    fromtimestamp: Callable[[float, ZoneInfo], datetime],
    /,
) -> dict[str, tuple[list[Any], Post]]: ...
