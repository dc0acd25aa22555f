from array import array
from collections.abc import Mapping

def count_words(text: str, stems: Mapping[str, str]) -> tuple[dict[str, int], int]: ...
def add_postings(
    table: dict[str, bytearray | array[int]], number: int, counts: dict[str, int]
) -> None: ...
