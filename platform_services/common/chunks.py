"""Re-chunking a stream of small byte strings into upload parts of a bounded size."""
from __future__ import annotations

from collections.abc import Iterable, Iterator


def parts(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Join `pieces` into parts of at least `size` bytes (the last may be smaller)."""
    buffer, held = [], 0
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        if held >= size:
            yield b"".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield b"".join(buffer)
