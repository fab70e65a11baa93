"""A typed client for the query API: what the CLI and the dashboard read through."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pyarrow as pa

from api import DEFAULT_URL
from store.model import QueryResult
from store.reads import FINDING_COLUMNS, SESSION_COLUMNS, SessionFilter


class ApiError(Exception):
    """The API answered with an error; the message is its sentence."""


class ApiUnreachable(ApiError):
    pass


class ApiClient:
    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 120.0, token: str | None = None) -> None:
        """``token`` defaults to STEPSEVEN_TOKEN, as the collector's does."""
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get("STEPSEVEN_TOKEN") or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
        # On the last SQL result: acknowledged records it does not count yet (not in the store when it
        # began), and the collector's sentence about them.
        self.pending_records = 0
        self.warning: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"No stepseven collector answers at {self.url} ({exc}).") from None
        if response.status_code >= 400:
            raise ApiError(_message(response))
        return response

    def sql(
        self, sql: str, params: list[Any] | None = None, *, limit: int = 10_000, wait_for_pending: bool = False
    ) -> QueryResult:
        """``wait_for_pending``: first wait until every span acknowledged before is in the store (seconds at most)."""
        body: dict[str, Any] = {"sql": sql, "limit": limit, "wait_for_pending": wait_for_pending}
        if params:
            body["params"] = params
        response = self._request("POST", "/api/v1/sql", json=body)
        self._note_pending(response)
        data = response.json()
        return QueryResult(data["columns"], [tuple(row) for row in data["rows"]], data["truncated"])

    def sql_arrow(
        self, sql: str, params: list[Any] | None = None, *, limit: int = 10_000, wait_for_pending: bool = False
    ) -> tuple[pa.Table, bool]:
        """The result typed (timestamps stay timestamps), and whether rows were left out."""
        table, truncated, _ = self.sql_arrow_warned(sql, params, limit=limit, wait_for_pending=wait_for_pending)
        return table, truncated

    def sql_arrow_warned(
        self, sql: str, params: list[Any] | None = None, *, limit: int = 10_000, wait_for_pending: bool = False
    ) -> tuple[pa.Table, bool, str | None]:
        """As ``sql_arrow``, with the collector's warning on this result (a client shared by threads cannot
        rely on ``self.warning``)."""
        body: dict[str, Any] = {
            "sql": sql, "limit": limit, "params": params or [], "wait_for_pending": wait_for_pending
        }  # fmt: skip
        response = self._request(
            "POST", "/api/v1/sql", json=body, headers={"Accept": "application/vnd.apache.arrow.stream"}
        )
        table = pa.ipc.open_stream(response.content).read_all()
        self._note_pending(response)
        truncated = response.headers.get("X-Stepseven-Truncated") == "true"
        return table, truncated, response.headers.get("X-Stepseven-Warning")

    def _note_pending(self, response: httpx.Response) -> None:
        self.pending_records = int(response.headers.get("X-Stepseven-Pending", "0"))
        self.warning = response.headers.get("X-Stepseven-Warning")

    def sessions(self, f: SessionFilter) -> tuple[QueryResult, int]:
        """One page of sessions and how many match in all."""
        params: dict[str, Any] = {
            "q": f.search, "agent": f.agent, "status": f.status, "service": f.service, "model": f.model,
            "finding": f.finding_kind, "order": f.order, "limit": f.limit, "offset": f.offset,
        }  # fmt: skip
        for name, value in (("since", f.since), ("until", f.until)):
            if isinstance(value, datetime):
                params[name] = value.isoformat()
        data = self._request("GET", "/api/v1/sessions", params={k: v for k, v in params.items() if v != ""}).json()
        return _records(data["sessions"], [*SESSION_COLUMNS, "findings"]), int(data["total"])

    def session(self, session_id: str) -> dict[str, Any] | None:
        """The session, its handoffs and findings; None when there is no such session."""
        try:
            response = self._http.get(f"/api/v1/sessions/{_segment(session_id)}")
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"No stepseven collector answers at {self.url} ({exc}).") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ApiError(_message(response))
        found: dict[str, Any] = response.json()
        return found

    def session_steps(self, session_id: str, first: int, last: int, columns: list[str]) -> QueryResult:
        """Steps ``first`` to ``last`` of one session (read session by session, fast on big stores)."""
        response = self._http.get(
            f"/api/v1/sessions/{_segment(session_id)}/steps",
            params={"from": first, "to": last, "columns": ",".join(columns)},
        )
        if response.status_code == 404:
            return QueryResult(columns, [], False)
        if response.status_code >= 400:
            raise ApiError(_message(response))
        data = response.json()
        return QueryResult(data["columns"], [tuple(step[c] for c in data["columns"]) for step in data["steps"]], False)

    def findings(
        self,
        *,
        kind: str = "",
        severity: str = "",
        agent: str = "",
        session_id: str = "",
        limit: int = 1000,
        notes: bool = False,
        offset: int = 0,
    ) -> tuple[QueryResult, int]:
        params: dict[str, Any] = {
            "kind": kind, "severity": severity, "agent": agent, "session_id": session_id, "limit": limit,
            "offset": offset, "notes": "true" if notes else "",
        }  # fmt: skip
        data = self._request("GET", "/api/v1/findings", params={k: v for k, v in params.items() if v != ""}).json()
        return _records(data["findings"], list(FINDING_COLUMNS)), int(data["total"])

    def views(self) -> dict[str, list[tuple[str, str]]]:
        """Each documented view's columns and their types."""
        data = self._request("GET", "/api/v1/views").json()
        return {v["name"]: [(c["name"], c["type"]) for c in v["columns"]] for v in data}

    def facets(self) -> dict[str, list[str]]:
        """The agents, services and models of the stored sessions."""
        data: dict[str, list[str]] = self._request("GET", "/api/v1/facets").json()
        return data

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/healthz").json()
        return result


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return response.text[:500]


def _segment(value: str) -> str:
    # Session ids are user data: quote everything, slashes included, so the path stays one segment.
    return quote(value, safe="")


def _records(records: list[dict[str, Any]], columns: list[str]) -> QueryResult:
    return QueryResult(columns, [tuple(r[c] for c in columns) for r in records], False)
