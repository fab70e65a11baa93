"""A typed client for the query API: what the CLI and the dashboard read through."""

from __future__ import annotations

from typing import Any

import httpx

from store.model import QueryResult

DEFAULT_URL = "http://127.0.0.1:4319"


class ApiError(Exception):
    """The API answered with an error; the message is its sentence."""


class ApiUnreachable(ApiError):
    pass


class ApiClient:
    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

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
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:500]
            raise ApiError(message)
        return response

    def sql(self, sql: str, params: list[Any] | None = None, *, limit: int = 10_000) -> QueryResult:
        body: dict[str, Any] = {"sql": sql, "limit": limit}
        if params:
            body["params"] = params
        data = self._request("POST", "/api/v1/sql", json=body).json()
        return QueryResult(data["columns"], [tuple(row) for row in data["rows"]], data["truncated"])

    def session_steps(self, session_id: str, first: int, last: int, columns: list[str]) -> QueryResult:
        """Steps ``first`` to ``last`` of one session (the fast path for big stores)."""
        body = {"session_id": session_id, "from": first, "to": last, "columns": columns}
        data = self._request("POST", "/api/v1/session-steps", json=body).json()
        return QueryResult(data["columns"], [tuple(row) for row in data["rows"]], False)

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/healthz").json()
        return result
