"""Where each stripped block stood: an offset in the cleaned text, so a viewer can show it in place."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["place_blocks"]


def place_blocks(page: str, cleaned: str, blocks: Sequence[str]) -> list[int]:
    """For each block removed from ``page``, the offset in ``cleaned`` where it stood.

    The offset is where the first kept line after the block starts in the
    cleaned text (``len(cleaned)`` for a block at the end of the page). Blocks
    are looked up in page order, each after the previous one, so that a
    repeated teaser lands where it was.

    >>> page = "first line\\nRead also: x\\nsecond line\\nfooter"
    >>> place_blocks(page, "first line\\nsecond line", ["Read also: x", "footer"])
    [11, 22]
    """
    offsets: list[int] = []
    cursor = 0
    for block in blocks:
        found = page.find(block.strip(), cursor) if block.strip() else -1
        if found < 0:
            offsets.append(len(cleaned))
            continue
        cursor = found + len(block.strip())
        at = len(cleaned)
        for line in page[cursor:].splitlines():
            line = line.strip()
            if not line:
                continue
            hit = cleaned.find(line)
            if hit >= 0:
                at = hit
                break
        offsets.append(at)
    return offsets
