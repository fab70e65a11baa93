"""Store append benchmark: what the single writer's transactions cost, without the network or decoding.

It builds the same agent traffic as ingest_throughput.py, decodes it in this process (not timed),
then writes it to a throwaway DuckDB store, opened with the collector's DuckDB threads, in
transactions of one row group (20 requests of 512 spans, as the collector's writer flushes its
journal under load; ``--requests-per-commit 2`` is a commit through DuckDB's WAL), and prints the
CPU time per span that the writes took (DuckDB's work and its checkpoints included) and the bytes on disk per
span. The writer is the one serial stage of ingest, so this is the cost to watch when changing how
the store appends.

    python benchmarks/store_append.py                  # 300,000 spans
    python benchmarks/store_append.py --spans 100000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from benchmarks.ingest_throughput import Job, _fresh_requests, build_template_spans
from collector.config import Limits
from collector.import_guard import keep_out
from collector.signals import decode_request
from store.duckdb_store import COLLECTOR_THREADS, ROW_GROUP_SIZE, DuckDBStore
from store.model import Batch

REQUEST_SPANS = 512


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=300_000, help="spans to write (default 300,000)")
    parser.add_argument(
        "--requests-per-commit",
        type=int,
        default=ROW_GROUP_SIZE // REQUEST_SPANS,
        help=f"export requests merged into one transaction (default {ROW_GROUP_SIZE // REQUEST_SPANS}, a row group)",
    )
    args = parser.parse_args()
    keep_out("pandas")  # as in the collector: pyarrow would import pandas on its first conversion
    template = encode_spans(build_template_spans(sessions=128)[:REQUEST_SPANS]).SerializeToString()
    requests = max(1, args.spans // REQUEST_SPANS)
    print(f"decoding {requests * REQUEST_SPANS:,} spans of agent traffic (not timed)...", flush=True)
    bodies = _fresh_requests(Job("grpc", 0, requests, REQUEST_SPANS, template, seed=1000, gzip=False))
    decoded = [decode_request("traces", body, "application/x-protobuf", Limits(), None).batch for body, _ in bodies]
    step = args.requests_per_commit
    batches = [Batch.merge(decoded[i : i + step]) for i in range(0, len(decoded), step)]
    del bodies, decoded
    with tempfile.TemporaryDirectory(prefix="stepseven-append-") as tmp:
        store = DuckDBStore(Path(tmp) / "append.duckdb", threads=COLLECTOR_THREADS)
        written = 0
        user0, sys0 = _cpu()
        started = time.perf_counter()
        for batch in batches:
            written += store.write(batch).spans
        wall = time.perf_counter() - started
        user1, sys1 = _cpu()
        store.close()
        disk = sum(f.stat().st_size for f in Path(tmp).glob("append.duckdb*"))
    user, system = (user1 - user0) / written * 1e6, (sys1 - sys0) / written * 1e6
    print(
        f"{written:,} spans in {len(batches):,} transactions: {user + system:.1f} µs of CPU per span "
        f"({user:.1f} user, {system:.1f} system), {wall / written * 1e6:.1f} µs of wall time per span, "
        f"{disk / written:,.0f} bytes on disk per span"
    )


if __name__ == "__main__":
    main()
