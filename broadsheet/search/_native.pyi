from collections.abc import Callable
from typing import Protocol

class _Stems(Protocol):
    def __getitem__(self, word: str, /) -> str: ...

class StemTable:
    def __init__(
        self,
        stem: Callable[[str], str],
        limit: int,
        quick: Callable[[str], str] | None = None,
        most: int = 0,
    ) -> None: ...
    def __getitem__(self, word: str, /) -> str: ...
    def __len__(self) -> int: ...

def count_words(text: str, stems: _Stems) -> tuple[dict[str, int], int] | None: ...

class TermNumbers:
    def __len__(self) -> int: ...

def slice_add(
    terms: dict[str, int] | TermNumbers, triples: bytearray, number: int, counts: dict[str, int]
) -> None: ...
def slice_runs(
    terms: dict[str, int] | TermNumbers, triples: bytearray, groups: int, shards: int
) -> list[bytes]: ...

class Gathering:
    def add(self, run: bytes, /) -> None: ...
    def write(
        self, total: int, shards: list[int], write: Callable[[int, bytes], object], /
    ) -> dict[str, int]: ...

def text_of(markup: str, blocks: frozenset[str], inlines: frozenset[str]) -> str | None: ...
def fold_join(text: str, folds: bytes) -> str | None: ...
def count_into(
    text: str,
    stems: StemTable,
    title: str,
    numbers: TermNumbers,
    triples: bytearray,
    number: int,
    boost: int,
) -> int | None: ...
