"""OTLP/HTTP receiver: POST /v1/traces, /v1/logs, /v1/metrics in protobuf or JSON (port 4318)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collector.auth import UNAUTHENTICATED, authorized
from collector.config import CollectorConfig
from collector.encoding import PROTOBUF, encode, media_type, status_body
from collector.errors import (
    ExportError,
    InvalidRequest,
    PayloadTooLarge,
    RequestTimeout,
    Unauthenticated,
    status_for,
)
from collector.ingest import Ingest
from collector.limits import Lease, decompress
from collector.signals import LOGS, METRICS, TRACES, Signal


async def _read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"the body has {declared} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the body is larger than the limit of {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidRequest("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def build_app(ingest: Ingest, config: CollectorConfig, health: Callable[[], dict[str, Any]]) -> Starlette:
    limits = config.limits

    def decode_and_accept(signal: Signal, body: bytes, media: str, encoding: str) -> Any:
        # Blocking (decompression here, then the wait for a decode worker): on a thread, so the event
        # loop keeps serving other exporters.
        with Lease(ingest.inflating) as lease:
            return ingest.accept(signal, decompress(body, encoding, limits.max_decompressed_bytes, lease), media)

    async def export(request: Request, signal: Signal) -> Response:
        media = PROTOBUF
        try:
            media = media_type(request.headers.get("content-type"))
            if not authorized(config.token, request.headers.get("authorization")):
                raise Unauthenticated(UNAUTHENTICATED)
            ingest.admit()  # before the body is read: a refused export costs nothing
            try:
                body = await asyncio.wait_for(
                    _read_body(request, limits.max_request_bytes), limits.body_timeout_seconds
                )
            except TimeoutError:
                raise RequestTimeout(f"the body did not arrive within {limits.body_timeout_seconds:g} s") from None
            encoding = request.headers.get("content-encoding", "")
            accepted = await run_in_threadpool(decode_and_accept, signal, body, media, encoding)
            # asyncio.wait, not wait_for: a timeout must not cancel the writer's future.
            waiting = asyncio.wrap_future(accepted.future)
            # Its error is answered through ingest.wait below; retrieved here so asyncio does not log it.
            waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
            await asyncio.wait({waiting}, timeout=config.commit_timeout_seconds)
            response = ingest.wait(accepted, timeout=0)
            return Response(encode(response, media), media_type=media)
        except ExportError as err:
            ingest.refused(err)
            status = status_for(err)
            headers = {}
            if status.retry_after_seconds is not None:
                headers["Retry-After"] = str(status.retry_after_seconds)
            return Response(
                status_body(status.grpc_code, str(err), media),
                status_code=status.http_status,
                media_type=media,
                headers=headers,
            )

    async def traces(request: Request) -> Response:
        return await export(request, TRACES)

    async def logs(request: Request) -> Response:
        return await export(request, LOGS)

    async def metrics(request: Request) -> Response:
        return await export(request, METRICS)

    async def healthz(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(health))

    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=["*"],
                max_age=600,
            )
        )
    return Starlette(
        routes=[
            Route("/v1/traces", traces, methods=["POST"]),
            Route("/v1/logs", logs, methods=["POST"]),
            Route("/v1/metrics", metrics, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=middleware,
    )
