"""Regenerates the Vercel AI SDK (JavaScript) captures: a real Node program, a tiny local OTLP/HTTP receiver.

The agent is ``agent.mjs`` beside this file: ``generateText`` with tools over several steps, telemetry
through the SDK's default ``OpenTelemetry`` integration (``@ai-sdk/otel``), the model being the SDK's own
``MockLanguageModelV4`` from ``ai/test`` answering from a script. Node's OTel SDK exports every span over
OTLP/HTTP to a receiver this script runs on 127.0.0.1; nothing else is reached.

Set-up (Python 3.11, Node 20, npm):

    python -m venv .venv-capture
    .venv-capture/bin/pip install -e . "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2" \\
        "opentelemetry-proto==1.45.2" "protobuf==7.36.2"
    (cd sample_traces/frameworks/js && npm ci)   # ai 7.0.185, @ai-sdk/otel 1.0.185, @opentelemetry/* 0.301.2
    .venv-capture/bin/python sample_traces/frameworks/js/capture_js.py [SCENARIO ...]   # all by default

Scenarios (each writes ``js_<scenario>.json``; TRUTH.md says what really happened in each):

* ``healthy``: two tools over four model steps, ``get_weather`` fails once and is retried, final answer;
  telemetry defaults (inputs and outputs recorded).
* ``content_off``: the same with ``recordInputs: false, recordOutputs: false``.
* ``step_limit``: the model calls ``search_flights`` with the same arguments until ``stopWhen: isStepCount(4)``
  ends the run without a final answer.
* ``content_off_fanout``: content off, ``convert_currency`` called three times with three different
  arguments (USD, GBP, JPY), final answer: a healthy run.
* ``legacy``: the ``healthy`` run through ``LegacyOpenTelemetry`` (the AI SDK 4-6 ``ai.*`` span format).

Each scenario runs the Node program twice, once with ``@opentelemetry/exporter-trace-otlp-proto`` (protobuf
body) and once with ``@opentelemetry/exporter-trace-otlp-http`` (OTLP/JSON body); both send
``Transfer-Encoding: chunked`` without Content-Length. The raw bodies go, byte for byte, to
``raw/js_<scenario>.{pb,json}`` (``.N`` before the extension when a run sent several requests), and
``js_<scenario>.json`` is the protobuf body turned into the team's format: one OTLP/JSON
ExportTraceServiceRequest with hex trace/span ids. The script checks that the JSON body carries the same
spans (names, ids, attribute keys) as the protobuf one. Trace and span ids are deterministic (agent.mjs's
id generator), timestamps are real.

To send a run live to a collector instead: ``node agent.mjs healthy proto http://127.0.0.1:4318 -live-proto``
(the optional last argument gives the run its own session and trace id).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

HERE = Path(__file__).resolve().parent
SCENARIOS = ("healthy", "content_off", "step_limit", "legacy", "content_off_fanout")


class Receiver(BaseHTTPRequestHandler):
    """Keeps every POST /v1/traces body with its content type; answers like a collector would."""

    protocol_version = "HTTP/1.1"
    bodies: ClassVar[list[tuple[str, bytes]]] = []

    def read_body(self) -> bytes:
        """Node's exporters send ``Transfer-Encoding: chunked`` with no Content-Length."""
        if self.headers.get("Content-Length") is not None:
            return self.rfile.read(int(self.headers["Content-Length"]))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers, then the blank line
            pass
        return body

    def do_POST(self) -> None:
        body = self.read_body()
        if self.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        content_type = self.headers.get("Content-Type", "")
        self.bodies.append((content_type, body))
        if "json" in content_type:
            reply, reply_type = b"{}", "application/json"
        else:
            reply, reply_type = ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"
        self.send_response(200)
        self.send_header("Content-Type", reply_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        return


def hexify(node: Any) -> None:
    """base64 ids (protobuf JSON mapping) -> hex ids (OTLP/JSON)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                hexify(value)
    elif isinstance(node, list):
        for item in node:
            hexify(item)


def protobuf_to_otlp_json(bodies: list[bytes]) -> dict[str, Any]:
    merged = ExportTraceServiceRequest()
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        merged.resource_spans.extend(request.resource_spans)
    document = json_format.MessageToDict(merged)
    hexify(document)
    return document


def span_shape(document: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    shape = []
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                keys = tuple(sorted(a["key"] for a in span.get("attributes", [])))
                shape.append((span["name"], span["spanId"].lower(), span.get("parentSpanId", "").lower(), keys))
    return sorted(shape)


def run_node(node_dir: Path, scenario: str, protocol: str, endpoint: str) -> str:
    done = subprocess.run(
        ["node", "agent.mjs", scenario, protocol, endpoint],
        cwd=node_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"any of {', '.join(SCENARIOS)} (all by default)"
    )
    parser.add_argument("--node-dir", type=Path, default=HERE, help="where agent.mjs and node_modules are")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    raw_dir: Path = args.out / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    try:
        for scenario in args.scenarios or SCENARIOS:
            received: dict[str, list[bytes]] = {}
            for protocol in ("proto", "json"):
                Receiver.bodies.clear()
                summary = run_node(args.node_dir, scenario, protocol, endpoint)
                received[protocol] = [body for _, body in Receiver.bodies]
                types = sorted({content_type for content_type, _ in Receiver.bodies})
                print(f"{scenario}/{protocol}: {len(received[protocol])} request(s) {types}; run: {summary}")
            for protocol, extension in (("proto", "pb"), ("json", "json")):
                for index, body in enumerate(received[protocol]):
                    suffix = "" if len(received[protocol]) == 1 else f".{index}"
                    (raw_dir / f"js_{scenario}{suffix}.{extension}").write_bytes(body)
            json_bodies = [json.loads(body) for body in received["json"]]
            document = protobuf_to_otlp_json(received["proto"])
            from_json = {"resourceSpans": [rs for body in json_bodies for rs in body.get("resourceSpans", [])]}
            same = span_shape(document) == span_shape(from_json)
            path = args.out / f"js_{scenario}.json"
            path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
            print(f"{path}: {len(span_shape(document))} spans; JSON body has the same spans: {same}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
