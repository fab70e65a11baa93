"""What both receivers do with a decoded request: check, convert, queue, wait for the commit.

The gRPC and HTTP receivers only differ in how bytes arrive and how answers leave; everything
between is here, once.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from google.protobuf.message import Message

from collector import decode
from collector.config import CollectorConfig
from collector.decode_pool import DecodePool
from collector.errors import DiskLow, ExportError, QueueFull, Unavailable
from collector.export_load import ExportLoad
from collector.limits import Counters, InflateBudget
from collector.signals import Signal
from store.model import WriteResult
from store.writer import CommitFailed, Writer, WriterClosed
from store.writer import QueueFull as WriterQueueFull


@dataclass(slots=True)
class Accepted:
    """A request that passed the checks, with what its answer must say."""

    signal: Signal
    outcome: decode.DecodeOutcome
    future: Future[WriteResult]

    def response(self) -> Message:
        response = self.signal.response_type()
        if self.outcome.rejected:
            partial = response.partial_success  # type: ignore[attr-defined]
            setattr(partial, self.signal.rejected_field, self.outcome.rejected)
            partial.error_message = f"{self.outcome.rejected} {self.signal.item} rejected: " + "; ".join(
                self.outcome.errors
            )
        return response


class Ingest:
    def __init__(
        self,
        config: CollectorConfig,
        writer: Writer,
        counters: Counters,
        decoders: DecodePool,
        load: ExportLoad | None = None,
    ) -> None:
        """``load``: counts each export from its decode to its acknowledgement (background work reads it)."""
        self.config = config
        self.load = load if load is not None else ExportLoad()
        self.limits = config.limits
        self.writer = writer
        self.counters = counters
        self.decoders = decoders
        # Twice the largest body: two bombs at the limit at once, or many ordinary requests; shared by
        # the HTTP and gRPC receivers, so that neither can take memory the other counted on.
        self.inflating = InflateBudget(2 * config.limits.max_decompressed_bytes)

    def accept(self, signal: Signal, body: bytes, media: str) -> Accepted:
        """Decodes a request's (decompressed) body in a decode worker and queues it for the writer.

        The receivers call ``admit`` first, before they read or inflate the body."""
        self.load.begin()
        try:
            outcome = self.decoders.decode(signal.name, body, media)
            future = self.writer.submit(outcome.batch)
        except WriterQueueFull as exc:
            self.load.end()
            raise QueueFull(f"{exc}; retry later") from None
        except WriterClosed as exc:
            self.load.end()
            raise Unavailable(str(exc)) from None
        except BaseException:
            self.load.end()
            raise
        future.add_done_callback(lambda _: self.load.end())
        n = outcome.received
        self.counters.add(f"received_{signal.item}", n)
        self.counters.add(f"rejected_{signal.item}", outcome.rejected)
        self.counters.add("truncated_attribute_values", outcome.truncated_values)
        self.counters.add("dropped_attributes", outcome.dropped_attributes)
        self.counters.add("redacted_values", outcome.redacted_values)
        return Accepted(signal, outcome, future)

    def admit(self) -> None:
        """Refuses work that could not be kept: raised before a request's body is decompressed or decoded."""
        if (problem := self.writer.disk_problem()) is not None:
            raise DiskLow(problem)

    def wait(self, accepted: Accepted, timeout: float | None = None) -> Message:
        """Blocks until the commit (at most ``timeout``); the answer the exporter gets."""
        try:
            accepted.future.result(timeout=self.config.commit_timeout_seconds if timeout is None else timeout)
        except FutureTimeout:
            raise Unavailable(
                f"the data was not committed within {self.config.commit_timeout_seconds:g} s; retry"
            ) from None
        except CommitFailed as exc:
            raise Unavailable(f"{exc}; retry") from None
        return accepted.response()

    def refused(self, err: ExportError) -> None:
        # Its traceback holds the frames that held the request's (inflated) body: dropped now, not
        # whenever the cyclic GC next runs (16 refused 120 MiB bodies held 2 GB until then).
        err.__traceback__ = None
        self.counters.add(f"refused_{err.reason}")
