"""OTLP's two HTTP encodings: binary protobuf and OTLP/JSON (hex ids, lowerCamelCase)."""

from __future__ import annotations

import base64
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2

from collector.errors import InvalidRequest, UnsupportedMediaType

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

M = TypeVar("M", bound=Message)

# OTLP/JSON writes these ids as hex, where the proto3 JSON mapping would use base64.
_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


def media_type(content_type: str | None) -> str:
    """The encoding a Content-Type asks for, or UnsupportedMediaType."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if base == JSON:
        return JSON
    raise UnsupportedMediaType(f"Content-Type {content_type or '(none)'!r} is not supported; send {PROTOBUF} or {JSON}")


def parse_protobuf(body: bytes, message_type: type[M]) -> M:
    message = message_type()
    try:
        message.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise InvalidRequest(f"the body is not a valid {message_type.__name__} protobuf: {exc}") from None
    return message


def parse_json(body: bytes, message_type: type[M]) -> M:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("the JSON body must be an object")
    _hex_ids_to_base64(document)
    message = message_type()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise InvalidRequest(f"the JSON body is not a valid {message_type.__name__}: {exc}") from None
    return message


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    # Iterative on purpose: a hostile document may nest deeper than Python's recursion limit.
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_FIELDS and isinstance(value, str):
                    node[key] = _hex_to_base64(key, value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))


def _hex_to_base64(key: str, value: str) -> str:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise InvalidRequest(
            f"{key} {value[:40]!r} is not hex; OTLP/JSON encodes trace and span ids as hex strings"
        ) from None
    return base64.b64encode(raw).decode("ascii")


def encode(message: Message, media: str) -> bytes:
    if media == JSON:
        return orjson.dumps(json_format.MessageToDict(message))
    return bytes(message.SerializeToString())


def status_body(code: int, message: str, media: str) -> bytes:
    """A google.rpc.Status, the OTLP error body, in the request's encoding."""
    return encode(status_pb2.Status(code=code, message=message), media)
