from collections.abc import Iterable
from typing import Any

def scan(
    folder: bytes, racy: int | None, /
) -> tuple[dict[str, list[Any]], list[str], list[str], list[str]]: ...
def walk(folder: bytes, /) -> tuple[dict[str, list[Any]], list[str]]: ...
def as_stamped(prefix: str, names: list[str], stamps: dict[str, list[Any]], /) -> bool: ...
def folders_held(root: str, folders: dict[str, list[int]], /) -> list[str] | None: ...
def index_entries(
    data: bytes, hash_size: int, written_ns: int, prefix: bytes, /
) -> dict[str, tuple[str, int, int, int, int]]: ...
def vouch_entries(
    entries: dict[str, tuple[str, int, int, int, int]],
    known: dict[str, str],
    old: dict[str, list[Any]],
    new: dict[str, list[Any]],
    /,
) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, int, int, int, int]]] | None: ...
def restamped(
    names: list[str],
    expected: dict[str, list[Any]],
    found: dict[str, list[Any]],
    hashes: dict[str, str],
    racy: int,
    racy_ns: int,
    /,
) -> list[list[Any] | None] | None: ...
def well_formed_all(values: Iterable[Any], /) -> bool: ...
