"""Bounded decompression and the refusal counters shown on /healthz."""

from __future__ import annotations

import threading
import zlib
from collections import Counter

from collector.errors import InvalidRequest, PayloadTooLarge, QueueFull, UnsupportedMediaType

# Inflated in steps of this much, each taken from the InflateBudget before it is kept.
_INFLATE_STEP = 1024 * 1024


class InflateBudget:
    """Bytes that requests being decompressed may hold at once, across all of them and both receivers.

    Each request's decompression is bounded on its own (max_decompressed_bytes), but 16 concurrent
    gzip bombs of 122 KB, each inflating to 120 MiB, took the collector to 2.2-3.2 GB. A request takes
    its inflated bytes from this budget as they come and gives them back once decoded; one that
    cannot get them within ``wait_seconds`` is answered 503 and sent again. The wait is short on
    purpose: requests that wait while holding part of the budget would hold each other up (16 bombs at
    once, waiting 5 s each, took 52 s to answer).
    """

    def __init__(self, total_bytes: int, wait_seconds: float = 0.5) -> None:
        self.total = total_bytes
        self._wait = wait_seconds
        self._held = 0
        self._cond = threading.Condition()

    @property
    def held(self) -> int:
        with self._cond:
            return self._held

    def take(self, n: int) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._held + n <= self.total, self._wait):
                raise QueueFull(
                    f"too many compressed requests are being inflated at once ({self._held // (1024 * 1024)} MiB "
                    "of their bodies are held); send again in a moment"
                )
            self._held += n

    def give_back(self, n: int) -> None:
        with self._cond:
            self._held -= n
            self._cond.notify_all()


class Lease:
    """What one request took from the budget; given back when the block ends."""

    def __init__(self, budget: InflateBudget | None) -> None:
        self._budget = budget
        self.bytes = 0

    def take(self, n: int) -> None:
        if self._budget is not None:
            self._budget.take(n)
            self.bytes += n

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._budget is not None and self.bytes:
            self._budget.give_back(self.bytes)
            self.bytes = 0


def decompress(body: bytes, content_encoding: str, max_bytes: int, lease: Lease | None = None) -> bytes:
    """Undo ``Content-Encoding``; never produces more than ``max_bytes`` (no unbounded gzip).

    The inflated bytes are taken from ``lease``'s budget as they are produced.
    """
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
    out = bytearray()
    data = body
    try:
        while not inflater.eof:
            chunk = inflater.decompress(data, min(_INFLATE_STEP, max_bytes + 1 - len(out)))
            data = inflater.unconsumed_tail
            if not chunk:
                break  # no more input
            if len(out) + len(chunk) > max_bytes:
                raise PayloadTooLarge(f"the decompressed body is larger than the limit of {max_bytes} bytes")
            if lease is not None:
                # Twice: the body, and its copy on its way to a decode worker.
                lease.take(2 * len(chunk))
            out += chunk
    except zlib.error as exc:
        raise InvalidRequest(f"the body is not valid {encoding} data: {exc}") from None
    if not inflater.eof:
        raise InvalidRequest(f"the {encoding} body is truncated")
    # bytes, not the bytearray: pickled on its way to a decode worker, a bytearray is first copied to bytes.
    return bytes(out)


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
