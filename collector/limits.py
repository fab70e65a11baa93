"""Bounded decompression and the refusal counters shown on /healthz."""

from __future__ import annotations

import threading
import zlib
from collections import Counter

from collector.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType


def decompress(body: bytes, content_encoding: str, max_bytes: int) -> bytes:
    """Undo ``Content-Encoding``; never produces more than ``max_bytes`` (no unbounded gzip)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        raise UnsupportedMediaType(f"Content-Encoding {content_encoding!r} is not supported; use gzip or none")
    inflater = zlib.decompressobj(wbits=wbits)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidRequest(f"the body is not valid {encoding} data: {exc}") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed body is larger than the limit of {max_bytes} bytes")
    if not inflater.eof:
        raise InvalidRequest(f"the {encoding} body is truncated")
    return out


class Counters:
    """Thread-safe named counters (refusals by reason, items received by signal)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
